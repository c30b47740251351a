//! The one mapping between `serde` values and Automerge documents, used for
//! every record type.
//!
//! A record is serialized to a [`serde_json::Value`]; objects become Automerge
//! maps, arrays become lists, and every leaf is a scalar register. Writing a
//! record *reconciles* the document with the new value: only fields whose
//! value really changed produce operations, so two devices editing different
//! fields of one dossier merge cleanly, and two devices editing the same field
//! keep both values (a conflict, see [`conflicts`]).
//!
//! Reconciling never resolves a conflict by accident: when the winning value
//! of a conflicted field equals the value being written, nothing is written.
//! Only an explicit resolution ([`overwrite_prop`]) replaces all values.

use automerge::{ActorId, ObjId};
use automerge::{
    AutoCommit, ObjType, Prop, ReadDoc, ScalarValue, Value, transaction::Transactable,
};
use serde_json::{Map, Number, Value as Json};

use crate::Error;

/// Reconcile the root map of `doc` with `value`, which must be a JSON object.
pub fn reconcile_root(doc: &mut AutoCommit, value: &Json) -> Result<(), Error> {
    match value {
        Json::Object(map) => reconcile_map(doc, &ObjId::Root, map),
        _ => Err(Error::NotAnObject),
    }
}

fn reconcile_map(doc: &mut AutoCommit, obj: &ObjId, map: &Map<String, Json>) -> Result<(), Error> {
    let existing: Vec<String> = doc.keys(obj).collect();
    for key in existing {
        if !map.contains_key(&key) {
            doc.delete(obj, key.as_str())?;
        }
    }
    for (key, value) in map {
        reconcile_prop(doc, obj, Prop::Map(key.clone()), value)?;
    }
    Ok(())
}

fn reconcile_list(doc: &mut AutoCommit, list: &ObjId, items: &[Json]) -> Result<(), Error> {
    let len = doc.length(list);
    let common = len.min(items.len());
    for (index, item) in items.iter().enumerate().take(common) {
        reconcile_prop(doc, list, Prop::Seq(index), item)?;
    }
    for (index, item) in items.iter().enumerate().skip(common) {
        insert_value(doc, list, index, item)?;
    }
    for index in (items.len()..len).rev() {
        doc.delete(list, index)?;
    }
    Ok(())
}

fn insert_value(
    doc: &mut AutoCommit,
    list: &ObjId,
    index: usize,
    value: &Json,
) -> Result<(), Error> {
    match value {
        Json::Object(map) => {
            let child = doc.insert_object(list, index, ObjType::Map)?;
            reconcile_map(doc, &child, map)
        }
        Json::Array(items) => {
            let child = doc.insert_object(list, index, ObjType::List)?;
            reconcile_list(doc, &child, items)
        }
        scalar => {
            doc.insert(list, index, to_scalar(scalar))?;
            Ok(())
        }
    }
}

/// Write `value` at `obj[prop]` unless the current winning value already equals it.
pub fn reconcile_prop(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: Prop,
    value: &Json,
) -> Result<(), Error> {
    let current = doc.get(obj, prop.clone())?;
    match value {
        Json::Object(map) => {
            let child = match current {
                Some((Value::Object(ObjType::Map), id)) => id,
                _ => doc.put_object(obj, prop, ObjType::Map)?,
            };
            reconcile_map(doc, &child, map)
        }
        Json::Array(items) => {
            let child = match current {
                Some((Value::Object(ObjType::List), id)) => id,
                _ => doc.put_object(obj, prop, ObjType::List)?,
            };
            reconcile_list(doc, &child, items)
        }
        scalar => {
            let new = to_scalar(scalar);
            if let Some((Value::Scalar(old), _)) = &current
                && old.as_ref() == &new
            {
                return Ok(());
            }
            doc.put(obj, prop, new)?;
            Ok(())
        }
    }
}

/// Replace every value at `obj[prop]` (resolving a conflict) with `value`.
pub fn overwrite_prop(
    doc: &mut AutoCommit,
    obj: &ObjId,
    prop: Prop,
    value: &Json,
) -> Result<(), Error> {
    match value {
        Json::Object(map) => {
            let child = doc.put_object(obj, prop, ObjType::Map)?;
            reconcile_map(doc, &child, map)
        }
        Json::Array(items) => {
            let child = doc.put_object(obj, prop, ObjType::List)?;
            reconcile_list(doc, &child, items)
        }
        scalar => {
            doc.put(obj, prop, to_scalar(scalar))?;
            Ok(())
        }
    }
}

fn to_scalar(value: &Json) -> ScalarValue {
    match value {
        Json::Null => ScalarValue::Null,
        Json::Bool(b) => ScalarValue::Boolean(*b),
        Json::Number(n) => {
            if let Some(i) = n.as_i64() {
                ScalarValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                ScalarValue::Uint(u)
            } else {
                ScalarValue::F64(n.as_f64().unwrap_or(0.0))
            }
        }
        Json::String(s) => ScalarValue::Str(s.as_str().into()),
        // Objects and arrays never reach here.
        Json::Object(_) | Json::Array(_) => ScalarValue::Null,
    }
}

fn scalar_to_json(value: &ScalarValue) -> Json {
    match value {
        ScalarValue::Null => Json::Null,
        ScalarValue::Boolean(b) => Json::Bool(*b),
        ScalarValue::Int(i) => Json::Number(Number::from(*i)),
        ScalarValue::Uint(u) => Json::Number(Number::from(*u)),
        ScalarValue::F64(f) => Number::from_f64(*f).map(Json::Number).unwrap_or(Json::Null),
        ScalarValue::Str(s) => Json::String(s.to_string()),
        ScalarValue::Counter(c) => Json::Number(Number::from(i64::from(c))),
        ScalarValue::Timestamp(t) => Json::Number(Number::from(*t)),
        ScalarValue::Bytes(b) => {
            Json::Array(b.iter().map(|x| Json::Number(Number::from(*x))).collect())
        }
        ScalarValue::Unknown { .. } => Json::Null,
    }
}

/// Read a whole document back as JSON (winning values only).
pub fn hydrate(doc: &AutoCommit) -> Result<Json, Error> {
    hydrate_obj(doc, &ObjId::Root)
}

fn hydrate_value(doc: &AutoCommit, value: &Value<'_>, id: &ObjId) -> Result<Json, Error> {
    match value {
        Value::Scalar(s) => Ok(scalar_to_json(s)),
        Value::Object(ObjType::Text) => Ok(Json::String(doc.text(id)?)),
        Value::Object(_) => hydrate_obj(doc, id),
    }
}

fn hydrate_obj(doc: &AutoCommit, obj: &ObjId) -> Result<Json, Error> {
    match doc.object_type(obj)? {
        ObjType::Map | ObjType::Table => {
            let mut map = Map::new();
            for key in doc.keys(obj) {
                if let Some((value, id)) = doc.get(obj, key.as_str())? {
                    map.insert(key.clone(), hydrate_value(doc, &value, &id)?);
                }
            }
            Ok(Json::Object(map))
        }
        ObjType::List => {
            let mut items = Vec::new();
            for index in 0..doc.length(obj) {
                if let Some((value, id)) = doc.get(obj, index)? {
                    items.push(hydrate_value(doc, &value, &id)?);
                }
            }
            Ok(Json::Array(items))
        }
        ObjType::Text => Ok(Json::String(doc.text(obj)?)),
    }
}

/// One step of a path inside a record: a field name or a list index.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum PathSegment {
    /// A field of a map.
    Field(String),
    /// A position in a list.
    Index(usize),
}

impl From<&str> for PathSegment {
    fn from(value: &str) -> Self {
        PathSegment::Field(value.to_owned())
    }
}

impl From<usize> for PathSegment {
    fn from(value: usize) -> Self {
        PathSegment::Index(value)
    }
}

impl PathSegment {
    fn prop(&self) -> Prop {
        match self {
            PathSegment::Field(f) => Prop::Map(f.clone()),
            PathSegment::Index(i) => Prop::Seq(*i),
        }
    }
}

/// One of the concurrent values of a conflicted field.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ConflictValue {
    /// The value as JSON.
    pub value: Json,
    /// Origin (Automerge actor, hex) of the device that wrote it.
    pub author: String,
    /// When it was written, milliseconds since the Unix epoch (the writer's clock).
    pub time_ms: i64,
}

/// A field that two or more devices changed concurrently.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Conflict {
    /// Where the field is in the record.
    pub path: Vec<PathSegment>,
    /// All values kept; the first is the one [`hydrate`] returns.
    pub values: Vec<ConflictValue>,
}

struct ChangeSpan {
    actor: ActorId,
    start: u64,
    len: u64,
    time: i64,
}

/// Find every conflicted field of a document.
pub fn conflicts(doc: &mut AutoCommit) -> Result<Vec<Conflict>, Error> {
    let spans: Vec<ChangeSpan> = doc
        .get_changes(&[])
        .iter()
        .map(|c| ChangeSpan {
            actor: c.actor_id().clone(),
            start: c.start_op().get(),
            len: c.len() as u64,
            time: c.timestamp(),
        })
        .collect();
    let mut found = Vec::new();
    let mut path = Vec::new();
    walk_conflicts(doc, &ObjId::Root, &spans, &mut path, &mut found)?;
    Ok(found)
}

fn walk_conflicts(
    doc: &AutoCommit,
    obj: &ObjId,
    spans: &[ChangeSpan],
    path: &mut Vec<PathSegment>,
    found: &mut Vec<Conflict>,
) -> Result<(), Error> {
    let props: Vec<PathSegment> = match doc.object_type(obj)? {
        ObjType::Map | ObjType::Table => doc.keys(obj).map(PathSegment::Field).collect(),
        ObjType::List => (0..doc.length(obj)).map(PathSegment::Index).collect(),
        ObjType::Text => return Ok(()),
    };
    for segment in props {
        let all = doc.get_all(obj, segment.prop())?;
        path.push(segment.clone());
        if all.len() > 1 {
            let mut values = Vec::new();
            for (value, id) in &all {
                let (author, time_ms) = match id {
                    ObjId::Id(counter, actor, _) => {
                        let time = spans
                            .iter()
                            .find(|s| {
                                &s.actor == actor
                                    && *counter >= s.start
                                    && *counter < s.start + s.len
                            })
                            .map(|s| s.time)
                            .unwrap_or(0);
                        (actor.to_hex_string(), time)
                    }
                    ObjId::Root => (String::new(), 0),
                };
                values.push(ConflictValue {
                    value: hydrate_value(doc, value, id)?,
                    author,
                    time_ms,
                });
            }
            // Put the winner (what `get` returns) first.
            if let Some((_, winner)) = doc.get(obj, segment.prop())?
                && let Some(pos) = all.iter().position(|(_, id)| *id == winner)
            {
                values.swap(0, pos);
            }
            found.push(Conflict {
                path: path.clone(),
                values,
            });
        } else if let Some((Value::Object(kind), child)) = all.first()
            && *kind != ObjType::Text
        {
            walk_conflicts(doc, child, spans, path, found)?;
        }
        path.pop();
    }
    Ok(())
}

/// Navigate to the object holding the last path segment; returns it and the prop.
pub fn parent_of(doc: &AutoCommit, path: &[PathSegment]) -> Result<(ObjId, Prop), Error> {
    let Some((last, parents)) = path.split_last() else {
        return Err(Error::PathNotFound);
    };
    let mut obj = ObjId::Root;
    for segment in parents {
        match doc.get(&obj, segment.prop())? {
            Some((Value::Object(_), id)) => obj = id,
            _ => return Err(Error::PathNotFound),
        }
    }
    Ok((obj, last.prop()))
}
