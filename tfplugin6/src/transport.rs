//! Runs the gRPC server: accepts on loopback with TCP_NODELAY, performs the TLS handshake off
//! the accept loop, and serves the provider beside go-plugin's controller, stdio and broker.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpStream, UnixStream};
use tokio_stream::wrappers::ReceiverStream;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::Connected;
use tonic::{Request, Response, Status};

use crate::proto::plugin as gp;
use crate::proto::tfplugin6::provider_server::{Provider, ProviderServer};

/// Tokens every part of the process can observe: `stop` cancels in-flight resource
/// operations (StopProvider, Shutdown); `shutdown` ends the server (Shutdown).
#[derive(Clone, Default)]
pub struct Lifecycle {
    pub stop: StopSignal,
    pub shutdown: CancellationToken,
    /// Serving under `-debug`: the process outlives each Terraform run.
    pub debug: bool,
}

/// StopProvider's signal. Each operation takes a token from it; a stop fires every token
/// handed out so far and arms a fresh one, as terraform-plugin-go replaces its stop channel
/// after each StopProvider: in a `-debug` or reattached process, the run after a Ctrl-C must
/// not start cancelled.
#[derive(Clone, Default)]
pub struct StopSignal(std::sync::Arc<std::sync::Mutex<CancellationToken>>);

impl StopSignal {
    /// A token that fires at the next stop.
    pub fn token(&self) -> CancellationToken {
        self.0.lock().expect("stop lock").child_token()
    }

    /// Fires the tokens handed out so far; later ones wait for the next stop.
    pub fn fire(&self) {
        let fired = std::mem::take(&mut *self.0.lock().expect("stop lock"));
        fired.cancel();
    }
}

pub enum Conn {
    Plain(TcpStream),
    Tls(Box<tokio_rustls::server::TlsStream<TcpStream>>),
    /// `-debug`: a unix socket only its owner can reach.
    Unix(UnixStream),
}

impl Connected for Conn {
    type ConnectInfo = ();
    fn connect_info(&self) -> Self::ConnectInfo {}
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
            Conn::Unix(s) => Pin::new(s).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_flush(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
            Conn::Unix(s) => Pin::new(s).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Conn::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Conn::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
            Conn::Unix(s) => Pin::new(s).poll_shutdown(cx),
        }
    }
}

/// Turns a listener into the stream of ready connections tonic consumes. A client that fails
/// the TLS handshake (no certificate, another certificate) is dropped and logged.
pub fn accept_connections(
    listener: tokio::net::TcpListener,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    shutdown: CancellationToken,
) -> ReceiverStream<std::io::Result<Conn>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            let (stream, peer) = match accepted {
                Ok(a) => a,
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    continue;
                }
            };
            // Without this every small gRPC frame waits on Nagle's algorithm (~40 ms per RPC).
            if let Err(e) = stream.set_nodelay(true) {
                tracing::warn!(error = %e, "cannot set TCP_NODELAY");
            }
            let tx = tx.clone();
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let conn = match acceptor {
                    None => Conn::Plain(stream),
                    Some(acceptor) => match acceptor.accept(stream).await {
                        Ok(tls) => Conn::Tls(Box::new(tls)),
                        Err(e) => {
                            tracing::warn!(%peer, error = %e, "refused a client that failed mutual TLS");
                            return;
                        }
                    },
                };
                let _ = tx.send(Ok(conn)).await;
            });
        }
    });
    ReceiverStream::new(rx)
}

/// The stream of connections on a unix socket, for `-debug`: the socket's folder (mode 0700)
/// decides who may connect, as go-plugin's unix sockets do.
pub fn accept_unix_connections(
    listener: tokio::net::UnixListener,
    shutdown: CancellationToken,
) -> ReceiverStream<std::io::Result<Conn>> {
    let (tx, rx) = tokio::sync::mpsc::channel(16);
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = shutdown.cancelled() => break,
                accepted = listener.accept() => accepted,
            };
            match accepted {
                Ok((stream, _)) => {
                    if tx.send(Ok(Conn::Unix(stream))).await.is_err() {
                        break;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "accept failed"),
            }
        }
    });
    ReceiverStream::new(rx)
}

pub async fn serve<P: Provider>(
    provider: P,
    incoming: ReceiverStream<std::io::Result<Conn>>,
    lifecycle: Lifecycle,
) -> Result<(), tonic::transport::Error> {
    let shutdown = lifecycle.shutdown.clone();
    tonic::transport::Server::builder()
        .add_service(ProviderServer::new(provider).max_decoding_message_size(256 << 20))
        .add_service(gp::grpc_controller_server::GrpcControllerServer::new(
            Controller(lifecycle.clone()),
        ))
        .add_service(gp::grpc_stdio_server::GrpcStdioServer::new(Stdio(
            lifecycle.clone(),
        )))
        .add_service(gp::grpc_broker_server::GrpcBrokerServer::new(Broker))
        .serve_with_incoming_shutdown(incoming, shutdown.cancelled_owned())
        .await
}

struct Controller(Lifecycle);

#[tonic::async_trait]
impl gp::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(&self, _: Request<gp::Empty>) -> Result<Response<gp::Empty>, Status> {
        tracing::debug!("shutdown requested by Terraform");
        if self.0.debug {
            return Ok(Response::new(gp::Empty {}));
        }
        self.0.stop.fire();
        // Let this response leave before the server stops accepting work.
        let shutdown = self.0.shutdown.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            shutdown.cancel();
        });
        Ok(Response::new(gp::Empty {}))
    }
}

/// Our logs go to stderr directly (go-plugin reads it); the stdio stream stays open and empty
/// until shutdown so go-plugin does not log a failed stream.
struct Stdio(Lifecycle);

#[tonic::async_trait]
impl gp::grpc_stdio_server::GrpcStdio for Stdio {
    type StreamStdioStream = ReceiverStream<Result<gp::StdioData, Status>>;

    async fn stream_stdio(
        &self,
        _: Request<gp::Empty>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let shutdown = self.0.shutdown.clone();
        tokio::spawn(async move {
            shutdown.cancelled().await;
            drop(tx);
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

/// This provider offers no brokered sub-services: every knock is answered with a refusal.
struct Broker;

#[tonic::async_trait]
impl gp::grpc_broker_server::GrpcBroker for Broker {
    type StartStreamStream = ReceiverStream<Result<gp::ConnInfo, Status>>;

    async fn start_stream(
        &self,
        request: Request<tonic::Streaming<gp::ConnInfo>>,
    ) -> Result<Response<Self::StartStreamStream>, Status> {
        let mut inbound = request.into_inner();
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        tokio::spawn(async move {
            while let Ok(Some(info)) = inbound.message().await {
                let asks = info.knock.as_ref().is_some_and(|k| k.knock);
                if asks {
                    let reply = gp::ConnInfo {
                        service_id: info.service_id,
                        knock: Some(gp::conn_info::Knock {
                            knock: false,
                            ack: true,
                            error: "this provider offers no brokered services".into(),
                        }),
                        ..Default::default()
                    };
                    if tx.send(Ok(reply)).await.is_err() {
                        break;
                    }
                }
            }
        });
        Ok(Response::new(ReceiverStream::new(rx)))
    }
}

#[cfg(test)]
mod tests {
    use super::StopSignal;

    #[test]
    fn a_stop_fires_the_tokens_handed_out_and_arms_a_fresh_one() {
        let stop = StopSignal::default();
        let (a, b) = (stop.token(), stop.token());
        stop.fire();
        assert!(a.is_cancelled() && b.is_cancelled());
        let after = stop.token();
        assert!(!after.is_cancelled(), "the run after a Ctrl-C starts live");
        stop.fire();
        assert!(after.is_cancelled());
    }
}
