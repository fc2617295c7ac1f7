//! Time as AWS writes it: milliseconds since the epoch (CloudWatch, the Runtime API's
//! deadline) and seconds as a float (X-Ray).

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX)
}

/// Seconds since the epoch, now, as X-Ray writes times.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_clocks_tell_the_same_time() {
        let (ms, secs) = (now_ms(), now_secs());
        #[allow(clippy::cast_precision_loss)] // ms since the epoch fit a f64 exactly
        let ms = ms as f64 / 1000.0;
        assert!((secs - ms).abs() < 1.0, "{secs} vs {ms}");
        assert!(secs > 1.7e9);
    }
}
