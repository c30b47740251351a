//! Updating a model in place: only rows that changed are written, rows are added or removed
//! at the end as needed, and the model itself is never replaced (the window keeps the same
//! `ModelRc`, and the elements of unchanged rows are left alone).

use slint::{Model, VecModel};

/// Makes `model` hold `rows`. Returns how many rows were written (changed or added).
pub fn sync_rows<T: Clone + PartialEq + 'static>(model: &VecModel<T>, rows: Vec<T>) -> usize {
    let mut written = 0;
    let old_len = model.row_count();
    let new_len = rows.len();
    for (i, row) in rows.into_iter().enumerate() {
        if i < old_len {
            if model.row_data(i).as_ref() != Some(&row) {
                model.set_row_data(i, row);
                written += 1;
            }
        } else {
            model.push(row);
            written += 1;
        }
    }
    for i in (new_len..old_len).rev() {
        model.remove(i);
    }
    written
}

/// Rows whose Slint form holds nested models (a field's choices, a paper's pages): the plain
/// `spec` of each row is compared, and a row is rebuilt only when its spec changed.
pub struct SpecRows<S> {
    specs: Vec<S>,
}

impl<S> Default for SpecRows<S> {
    fn default() -> Self {
        SpecRows { specs: Vec::new() }
    }
}

impl<S: PartialEq> SpecRows<S> {
    /// Makes `model` show `specs`: `make(i, spec)` builds the row of a changed or new spec.
    /// Returns how many rows were written.
    pub fn sync<T: Clone + 'static>(
        &mut self,
        model: &VecModel<T>,
        specs: Vec<S>,
        mut make: impl FnMut(usize, &S) -> T,
    ) -> usize {
        let mut written = 0;
        for (i, spec) in specs.iter().enumerate() {
            match self.specs.get(i) {
                Some(old) if old == spec && i < model.row_count() => {}
                Some(_) if i < model.row_count() => {
                    model.set_row_data(i, make(i, spec));
                    written += 1;
                }
                _ => {
                    model.push(make(i, spec));
                    written += 1;
                }
            }
        }
        for i in (specs.len()..model.row_count()).rev() {
            model.remove(i);
        }
        self.specs = specs;
        written
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_changed_rows_are_written() {
        let model = VecModel::from(vec![1, 2, 3]);
        assert_eq!(sync_rows(&model, vec![1, 2, 3]), 0);
        assert_eq!(sync_rows(&model, vec![1, 5, 3]), 1);
        assert_eq!(model.iter().collect::<Vec<_>>(), [1, 5, 3]);
        assert_eq!(sync_rows(&model, vec![1, 5, 3, 4]), 1);
        assert_eq!(sync_rows(&model, vec![1]), 0);
        assert_eq!(model.iter().collect::<Vec<_>>(), [1]);
        assert_eq!(sync_rows(&model, Vec::new()), 0);
        assert_eq!(model.row_count(), 0);
    }

    #[test]
    fn rows_of_unchanged_specs_are_not_rebuilt() {
        let model: VecModel<String> = VecModel::default();
        let mut rows = SpecRows::default();
        let mut built = Vec::new();
        let mut make = |_: usize, s: &&str| {
            built.push(s.to_string());
            s.to_uppercase()
        };
        assert_eq!(rows.sync(&model, vec!["a", "b"], &mut make), 2);
        assert_eq!(rows.sync(&model, vec!["a", "c"], &mut make), 1);
        assert_eq!(rows.sync(&model, vec!["a"], &mut make), 0);
        assert_eq!(built, ["a", "b", "c"]);
        assert_eq!(model.iter().collect::<Vec<_>>(), ["A"]);
    }
}
