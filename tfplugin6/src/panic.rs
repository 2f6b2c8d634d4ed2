//! A panic anywhere in the provider ends the process the way a Go provider's does: a line
//! `panic: <message>`, then the backtrace, on stderr, and exit code 2. go-plugin forwards
//! those lines to Terraform as errors from the moment one starts with `panic: ` (its
//! client.go), and Terraform prints them as "Stack trace from the … plugin" and "The … plugin
//! crashed!" instead of an RPC error about a closed connection.

use std::io::Write as _;

pub fn install_hook() {
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(a panic without a message)".to_string());
        let location = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        let report = crash_report(
            &message,
            &location,
            &std::backtrace::Backtrace::force_capture(),
        );
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(report.as_bytes());
        let _ = stderr.flush();
        std::process::exit(2);
    }));
}

fn crash_report(message: &str, location: &str, backtrace: &std::backtrace::Backtrace) -> String {
    // Every line of the message goes after the prefix so go-plugin reads the panic as one.
    let message = message.replace('\n', " ");
    format!("panic: {message}\n\nat {location}\n{backtrace}\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_starts_as_go_plugin_recognises_a_panic() {
        let bt = std::backtrace::Backtrace::force_capture();
        let r = crash_report("boom\nsecond line", "src/x.rs:3", &bt);
        assert!(r.starts_with("panic: boom second line\n"), "{r}");
        assert!(r.contains("at src/x.rs:3"));
        assert!(r.lines().count() > 3, "the backtrace follows");
    }
}
