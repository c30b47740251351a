//! Time, behind a port so tests can make the resident walk away.
//!
//! Dates are always the date in Viet Nam ([`xaso_services::calendar::vietnam_date`]), never
//! the machine's time zone: a kiosk may have no tz database, and a dossier handed in at
//! 06:30 in Viet Nam (23:30 UTC the day before) belongs to that morning.

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use xaso_services::calendar::vietnam_date;

/// The kiosk's sense of time.
pub trait Clock {
    /// Monotonic time, for the idle timer.
    fn now(&self) -> Instant;
    /// Wall-clock time, recorded in dossiers and ratings.
    fn timestamp(&self) -> jiff::Timestamp;
    /// The date in Viet Nam now.
    fn today(&self) -> jiff::civil::Date {
        vietnam_date(self.timestamp())
    }
}

/// The machine's clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
    fn timestamp(&self) -> jiff::Timestamp {
        jiff::Timestamp::now()
    }
}

/// A clock that only moves when told to (tests, the screenshot tour).
#[derive(Clone)]
pub struct ManualClock {
    start: Instant,
    offset: Rc<Cell<Duration>>,
    at: jiff::Timestamp,
}

impl ManualClock {
    pub fn new(at: jiff::Timestamp) -> ManualClock {
        ManualClock {
            start: Instant::now(),
            offset: Rc::default(),
            at,
        }
    }

    pub fn advance(&self, d: Duration) {
        self.offset.set(self.offset.get() + d);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + self.offset.get()
    }
    fn timestamp(&self) -> jiff::Timestamp {
        self.at
            .checked_add(jiff::SignedDuration::try_from(self.offset.get()).unwrap_or_default())
            .unwrap_or(self.at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manual_clocks_day_is_the_day_in_viet_nam() {
        let clock = ManualClock::new("2026-11-22T23:30:00Z".parse().unwrap());
        assert_eq!(clock.today(), jiff::civil::date(2026, 11, 23));
        clock.advance(Duration::from_secs(3600));
        assert_eq!(clock.today(), jiff::civil::date(2026, 11, 23));
    }
}
