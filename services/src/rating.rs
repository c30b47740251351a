//! Satisfaction ratings, given after each service (the programme's 95–99% target is
//! measured from these).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::catalog::ProcedureCode;
use crate::tracking::CommuneCode;

/// The four levels of the national satisfaction survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Satisfaction {
    VerySatisfied,
    Satisfied,
    Acceptable,
    NotSatisfied,
}

impl Satisfaction {
    pub const ALL: [Satisfaction; 4] = [
        Satisfaction::VerySatisfied,
        Satisfaction::Satisfied,
        Satisfaction::Acceptable,
        Satisfaction::NotSatisfied,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Satisfaction::VerySatisfied => "rating.very_satisfied",
            Satisfaction::Satisfied => "rating.satisfied",
            Satisfaction::Acceptable => "rating.acceptable",
            Satisfaction::NotSatisfied => "rating.not_satisfied",
        }
    }

    /// Counted as "satisfied" in the programme's indicator.
    pub fn counts_as_satisfied(self) -> bool {
        matches!(self, Satisfaction::VerySatisfied | Satisfaction::Satisfied)
    }
}

/// A rating is anonymous: it names the procedure and the commune, never the person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rating {
    pub id: String,
    pub commune: CommuneCode,
    pub procedure: ProcedureCode,
    pub level: Satisfaction,
    /// Optional free text, mostly given with a low rating.
    #[serde(default)]
    pub reason: Option<String>,
    pub at: Timestamp,
}

/// The share of ratings counted as satisfied, in percent; `None` with no ratings.
pub fn satisfaction_rate<'a>(ratings: impl IntoIterator<Item = &'a Rating>) -> Option<f64> {
    let (mut total, mut good) = (0u64, 0u64);
    for r in ratings {
        total += 1;
        good += u64::from(r.level.counts_as_satisfied());
    }
    (total > 0).then(|| good as f64 * 100.0 / total as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_counts_the_top_two_levels() {
        let mk = |level| Rating {
            id: "r".into(),
            commune: CommuneCode::new("27280").unwrap(),
            procedure: ProcedureCode("birth-registration".into()),
            level,
            reason: None,
            at: Timestamp::UNIX_EPOCH,
        };
        let ratings: Vec<Rating> = Satisfaction::ALL.into_iter().map(mk).collect();
        assert_eq!(satisfaction_rate(&ratings), Some(50.0));
        assert_eq!(satisfaction_rate(&[]), None);
    }
}
