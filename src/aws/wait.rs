//! Waiters and retries with exponential backoff and jitter, bounded by the operation's
//! deadline (the `timeouts` block) and stopped by Terraform's cancellation. Errors that mean
//! "not visible yet" (IAM propagation, EC2 eventual consistency) are retried only within the
//! propagation window, so a role or subnet that really does not exist fails within it, named.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{AwsError, AwsResult};

pub enum Poll<T> {
    Ready(T),
    Pending(String),
}

/// What bounds a long-running step.
#[derive(Clone)]
pub struct Budget {
    pub deadline: Instant,
    pub cancel: CancellationToken,
    /// Backoff floor; short in tests against the local testbed, seconds on real AWS.
    pub min_delay: Duration,
    /// Until then an object this resource made may still be invisible to its own delete (EC2
    /// eventual consistency); after it, "not found" means gone.
    pub fresh_until: Instant,
}

fn env_ms(name: &str) -> Option<Duration> {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .map(Duration::from_millis)
}

/// Milliseconds since the Unix epoch, as the private state records when objects were written.
pub fn now_unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// `after` from now, or a year from now when the clock cannot add that much: validation
/// bounds timeouts, and this keeps a deadline from ever panicking.
fn later(after: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(after)
        .unwrap_or_else(|| now + Duration::from_secs(365 * 24 * 3600))
}

/// How long a change takes to reach the services that use it: the Terraform AWS provider
/// retries IAM propagation and EC2 eventual consistency for 2 minutes (`propagationTimeout`,
/// `ec2PropagationTimeout`). `TF_EKS_PROPAGATION_MS` shortens it for tests.
pub fn propagation_window() -> Duration {
    env_ms("TF_EKS_PROPAGATION_MS").unwrap_or(Duration::from_secs(120))
}

impl Budget {
    pub fn new(timeout: Duration, cancel: CancellationToken) -> Budget {
        Budget {
            deadline: later(timeout),
            cancel,
            min_delay: env_ms("TF_EKS_POLL_MIN_MS").unwrap_or(Duration::from_secs(2)),
            fresh_until: later(propagation_window()),
        }
    }

    /// The same budget, for objects last written at `unix_ms` (None: unknown, so maybe now).
    pub fn for_objects_written_at(self, unix_ms: Option<u64>) -> Budget {
        let Some(written) = unix_ms else {
            return self;
        };
        let age = Duration::from_millis(now_unix_ms().saturating_sub(written));
        let left = propagation_window().saturating_sub(age);
        Budget {
            fresh_until: later(left),
            ..self
        }
    }

    /// The part of this budget within which "not found" may still be eventual consistency.
    pub fn while_fresh(&self) -> Budget {
        Budget {
            deadline: self.deadline.min(self.fresh_until),
            ..self.clone()
        }
    }

    /// The same budget, ending no later than `window` from now.
    pub fn within(&self, window: Duration) -> Budget {
        Budget {
            deadline: self.deadline.min(later(window)),
            ..self.clone()
        }
    }

    pub fn check(&self, step: &str) -> AwsResult<()> {
        if self.cancel.is_cancelled() {
            return Err(AwsError::Cancelled { step: step.into() });
        }
        if Instant::now() >= self.deadline {
            return Err(AwsError::Timeout { step: step.into() });
        }
        Ok(())
    }

    pub async fn sleep(&self, step: &str, delay: Duration) -> AwsResult<()> {
        let until = (Instant::now() + delay).min(self.deadline);
        tokio::select! {
            _ = self.cancel.cancelled() => {}
            _ = tokio::time::sleep_until(until) => {}
        }
        self.check(step)
    }
}

/// Grows by 1.6 up to five times the floor (10 s on real AWS), so a wait overshoots the
/// moment its object is ready by at most one short interval.
pub fn next_delay(current: Duration, min: Duration) -> Duration {
    let max = min * 5;
    let grown = current.mul_f64(1.6).clamp(min, max);
    let jitter = 0.8 + rand::random::<f64>() * 0.4;
    grown.mul_f64(jitter)
}

/// Polls `status` until it reports ready.
pub async fn until<T, F, Fut>(step: &str, budget: &Budget, mut status: F) -> AwsResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AwsResult<Poll<T>>>,
{
    let mut delay = budget.min_delay;
    loop {
        budget.check(step)?;
        match status().await? {
            Poll::Ready(v) => return Ok(v),
            Poll::Pending(state) => {
                tracing::debug!(step, state = %state, "waiting");
                budget.sleep(step, delay).await?;
                delay = next_delay(delay, budget.min_delay);
            }
        }
    }
}

/// Repeats `op` while it fails with an error `retryable` accepts. When the budget runs out
/// the last AWS error is returned, since it says more than "timed out".
pub async fn retry_while<T, F, Fut>(
    step: &str,
    budget: &Budget,
    retryable: impl Fn(&AwsError) -> bool,
    mut op: F,
) -> AwsResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AwsResult<T>>,
{
    let mut delay = budget.min_delay;
    loop {
        budget.check(step)?;
        match op().await {
            Err(e) if retryable(&e) => {
                tracing::debug!(step, code = %e.code(), "retrying");
                if let Err(limit) = budget.sleep(step, delay).await {
                    return Err(match limit {
                        AwsError::Timeout { .. } => e,
                        cancelled => cancelled,
                    });
                }
                delay = next_delay(delay, budget.min_delay);
            }
            other => return other,
        }
    }
}

/// Retries what `propagating` recognises as a change not yet visible (a role EKS cannot see
/// yet, a subnet EC2 does not know yet), for the propagation window at most. The final error
/// says it was retried, so a culprit that really does not exist is clear.
pub async fn while_propagating<T, F, Fut>(
    step: &str,
    budget: &Budget,
    propagating: impl Fn(&AwsError) -> bool,
    op: F,
) -> AwsResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = AwsResult<T>>,
{
    let window = propagation_window();
    let started = Instant::now();
    match retry_while(step, &budget.within(window), &propagating, op).await {
        Err(e) if propagating(&e) => Err(e.with_note(&format!(
            "still so after {:.0?} of retries while AWS propagated recent changes",
            started.elapsed()
        ))),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn budget(ms: u64) -> Budget {
        Budget {
            deadline: Instant::now() + Duration::from_millis(ms),
            cancel: CancellationToken::new(),
            min_delay: Duration::from_millis(5),
            fresh_until: Instant::now() + propagation_window(),
        }
    }

    #[test]
    fn not_found_is_final_once_the_objects_are_older_than_the_window() {
        let window = propagation_window();
        let unknown = budget(600_000).for_objects_written_at(None);
        assert!(unknown.while_fresh().deadline > Instant::now() + window / 2);
        let now = budget(600_000).for_objects_written_at(Some(now_unix_ms()));
        assert!(now.while_fresh().deadline > Instant::now() + window / 2);
        let old = now_unix_ms() - window.as_millis() as u64 - 1_000;
        let long_ago = budget(600_000).for_objects_written_at(Some(old));
        assert!(long_ago.while_fresh().deadline <= Instant::now());
        let short = budget(10).for_objects_written_at(Some(now_unix_ms()));
        assert!(
            short.while_fresh().deadline <= short.deadline,
            "never past the budget"
        );
    }

    #[tokio::test]
    async fn until_returns_when_ready() {
        let n = AtomicU32::new(0);
        let v = until("wait", &budget(5000), || async {
            Ok(if n.fetch_add(1, Ordering::SeqCst) < 3 {
                Poll::Pending("CREATING".into())
            } else {
                Poll::Ready(7)
            })
        })
        .await
        .unwrap();
        assert_eq!(v, 7);
        assert_eq!(n.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn until_times_out_with_a_clear_message() {
        let e = until("creating cluster", &budget(50), || async {
            Ok(Poll::<()>::Pending("CREATING".into()))
        })
        .await
        .unwrap_err();
        assert_eq!(e.code(), "Timeout");
        assert!(e.to_string().contains("creating cluster") && e.to_string().contains("timeouts"));
    }

    #[tokio::test]
    async fn cancellation_stops_waiting() {
        let b = budget(60_000);
        b.cancel.cancel();
        let e = until("x", &b, || async { Ok(Poll::<()>::Pending("p".into())) })
            .await
            .unwrap_err();
        assert_eq!(e.code(), "Cancelled");
    }

    #[tokio::test]
    async fn retry_while_retries_only_retryable_errors() {
        let n = AtomicU32::new(0);
        let r = retry_while(
            "create role",
            &budget(5000),
            |e| e.code() == "Propagation",
            || async {
                if n.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(AwsError::api("s", "Propagation", "not yet"))
                } else {
                    Ok(1)
                }
            },
        )
        .await;
        assert_eq!(r.unwrap(), 1);
        let e = retry_while(
            "s",
            &budget(5000),
            |e| e.code() == "Propagation",
            || async { Err::<(), _>(AwsError::api("s", "AccessDenied", "no")) },
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "AccessDenied");
    }

    #[tokio::test]
    async fn propagation_retries_end_with_the_window_not_the_budget() {
        std::env::set_var("TF_EKS_PROPAGATION_MS", "200");
        let started = Instant::now();
        let e = while_propagating(
            "creating EKS cluster",
            &budget(60_000),
            |e| e.message().contains("does not exist"),
            || async {
                Err::<(), _>(AwsError::api(
                    "s",
                    "InvalidParameterException",
                    "roleArn, arn:aws:iam::1:role/typo, does not exist",
                ))
            },
        )
        .await
        .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(e.message().contains("role/typo") && e.message().contains("retries"));
    }
}
