//! JSON for component-model values, driven by the WIT types, so fixture
//! cases and the invoke API read like the WIT itself:
//!
//! | WIT | JSON |
//! |---|---|
//! | `bool`, integers, floats | `true`, `42`, `0.5` |
//! | `string`, `char` | `"text"` |
//! | `list<T>` | `[...]` (`list<u8>` also accepts a UTF-8 string, or `{"base64": "..."}` for any bytes) |
//! | `record` | `{"field-name": ...}` with WIT (kebab-case) names; `option` fields may be left out |
//! | `tuple` | `[a, b]` |
//! | `variant` | `{"case": payload}`, or `"case"` without payload |
//! | `enum` | `"case"` |
//! | `option<T>` | `null` or the value |
//! | `result<T, E>` | `{"ok": ...}` or `{"err": ...}` |
//! | `flags` | `["flag", ...]` |

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde_json::{Map, Number, Value as Json};
use wasmtime::component::Val;
use wasmtime::component::types::Type;

/// Where in a value a conversion failed, e.g. `interaction.attached[2].key`.
fn at(path: &str, message: impl std::fmt::Display) -> String {
    if path.is_empty() {
        message.to_string()
    } else {
        format!("{path}: {message}")
    }
}

fn join(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

fn int<T: TryFrom<i64> + TryFrom<u64>>(json: &Json, path: &str) -> Result<T, String> {
    let out = match json {
        Json::Number(n) if n.is_u64() => n.as_u64().and_then(|v| T::try_from(v).ok()),
        Json::Number(n) if n.is_i64() => n.as_i64().and_then(|v| T::try_from(v).ok()),
        _ => None,
    };
    out.ok_or_else(|| at(path, format!("expected an integer in range, found {json}")))
}

fn float(json: &Json, path: &str) -> Result<f64, String> {
    json.as_f64()
        .ok_or_else(|| at(path, format!("expected a number, found {json}")))
}

fn text<'a>(json: &'a Json, path: &str) -> Result<&'a str, String> {
    json.as_str()
        .ok_or_else(|| at(path, format!("expected a string, found {json}")))
}

/// Splits `{"case": payload}` or `"case"` into the case name and payload.
fn case_of<'a>(json: &'a Json, path: &str) -> Result<(&'a str, Option<&'a Json>), String> {
    match json {
        Json::String(name) => Ok((name, None)),
        Json::Object(map) if map.len() == 1 => {
            let (name, payload) = map.iter().next().expect("one entry");
            Ok((name, Some(payload)))
        }
        _ => Err(at(
            path,
            format!("expected \"case\" or {{\"case\": value}}, found {json}"),
        )),
    }
}

/// The payload of a variant case or result arm: `null` or absent for a
/// case without one; for a case with one, `null` is only valid when its
/// type is an option.
fn payload_val(
    ty: Option<Type>,
    payload: Option<&Json>,
    name: &str,
    path: &str,
) -> Result<Option<Box<Val>>, String> {
    match (ty, payload) {
        (Some(ty), Some(payload)) => Ok(Some(Box::new(to_val(payload, &ty, &join(path, name))?))),
        (Some(_), None) => Err(at(path, format!("`{name}` needs a value"))),
        (None, None | Some(Json::Null)) => Ok(None),
        (None, Some(_)) => Err(at(path, format!("`{name}` takes no value"))),
    }
}

/// The bytes of a `list<u8>` written as a UTF-8 string or as
/// `{"base64": "..."}`; `None` for any other JSON (an array of numbers).
fn bytes_of(json: &Json, path: &str) -> Result<Option<Vec<u8>>, String> {
    match json {
        Json::String(text) => Ok(Some(text.as_bytes().to_vec())),
        Json::Object(map) => match (map.len(), map.get("base64")) {
            (1, Some(Json::String(encoded))) => BASE64
                .decode(encoded)
                .map(Some)
                .map_err(|e| at(path, format!("invalid base64: {e}"))),
            _ => Err(at(
                path,
                format!("expected bytes (a string, {{\"base64\": ...}} or an array), found {json}"),
            )),
        },
        _ => Ok(None),
    }
}

/// Bytes written for people: as text when they are UTF-8, else as
/// `{"base64": ...}`.
pub fn bytes_json(bytes: &[u8]) -> Json {
    match std::str::from_utf8(bytes) {
        Ok(text) => Json::String(text.to_string()),
        Err(_) => single("base64", Json::String(BASE64.encode(bytes))),
    }
}

/// Converts JSON to a value of type `ty`.
pub fn to_val(json: &Json, ty: &Type, path: &str) -> Result<Val, String> {
    Ok(match ty {
        Type::Bool => Val::Bool(
            json.as_bool()
                .ok_or_else(|| at(path, format!("expected true or false, found {json}")))?,
        ),
        Type::S8 => Val::S8(int(json, path)?),
        Type::U8 => Val::U8(int(json, path)?),
        Type::S16 => Val::S16(int(json, path)?),
        Type::U16 => Val::U16(int(json, path)?),
        Type::S32 => Val::S32(int(json, path)?),
        Type::U32 => Val::U32(int(json, path)?),
        Type::S64 => Val::S64(int(json, path)?),
        Type::U64 => Val::U64(int(json, path)?),
        Type::Float32 => Val::Float32(float(json, path)? as f32),
        Type::Float64 => Val::Float64(float(json, path)?),
        Type::Char => {
            let s = text(json, path)?;
            let mut chars = s.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Val::Char(c),
                _ => return Err(at(path, format!("expected one character, found {json}"))),
            }
        }
        Type::String => Val::String(text(json, path)?.to_string()),
        Type::List(list) => {
            let elem = list.ty();
            if let Type::U8 = elem
                && let Some(bytes) = bytes_of(json, path)?
            {
                return Ok(Val::List(bytes.into_iter().map(Val::U8).collect()));
            }
            let items = json
                .as_array()
                .ok_or_else(|| at(path, format!("expected an array, found {json}")))?;
            Val::List(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| to_val(item, &elem, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Record(record) => {
            let map = json
                .as_object()
                .ok_or_else(|| at(path, format!("expected an object, found {json}")))?;
            let fields: Vec<_> = record.fields().collect();
            if let Some(unknown) = map
                .keys()
                .find(|k| !fields.iter().any(|f| f.name == k.as_str()))
            {
                let names: Vec<&str> = fields.iter().map(|f| f.name).collect();
                return Err(at(
                    path,
                    format!("unknown field `{unknown}` (fields: {})", names.join(", ")),
                ));
            }
            Val::Record(
                fields
                    .iter()
                    .map(|field| {
                        let field_path = join(path, field.name);
                        let value = match (map.get(field.name), &field.ty) {
                            (Some(v), ty) => to_val(v, ty, &field_path)?,
                            (None, Type::Option(_)) => Val::Option(None),
                            (None, _) => return Err(at(&field_path, "missing")),
                        };
                        Ok((field.name.to_string(), value))
                    })
                    .collect::<Result<_, String>>()?,
            )
        }
        Type::Tuple(tuple) => {
            let items = json
                .as_array()
                .ok_or_else(|| at(path, format!("expected an array, found {json}")))?;
            let types: Vec<Type> = tuple.types().collect();
            if items.len() != types.len() {
                return Err(at(
                    path,
                    format!("expected {} items, found {}", types.len(), items.len()),
                ));
            }
            Val::Tuple(
                items
                    .iter()
                    .zip(&types)
                    .enumerate()
                    .map(|(i, (item, ty))| to_val(item, ty, &format!("{path}[{i}]")))
                    .collect::<Result<_, _>>()?,
            )
        }
        Type::Variant(variant) => {
            let (name, payload) = case_of(json, path)?;
            let case = variant.cases().find(|c| c.name == name).ok_or_else(|| {
                let names: Vec<&str> = variant.cases().map(|c| c.name).collect();
                at(
                    path,
                    format!("unknown case `{name}` (cases: {})", names.join(", ")),
                )
            })?;
            Val::Variant(name.to_string(), payload_val(case.ty, payload, name, path)?)
        }
        Type::Enum(e) => {
            let name = text(json, path)?;
            if !e.names().any(|n| n == name) {
                let names: Vec<&str> = e.names().collect();
                return Err(at(
                    path,
                    format!("unknown case `{name}` (cases: {})", names.join(", ")),
                ));
            }
            Val::Enum(name.to_string())
        }
        Type::Option(option) => match json {
            Json::Null => Val::Option(None),
            other => Val::Option(Some(Box::new(to_val(other, &option.ty(), path)?))),
        },
        Type::Result(result) => {
            let (name, payload) = case_of(json, path)?;
            let ty = match name {
                "ok" => result.ok(),
                "err" => result.err(),
                _ => {
                    return Err(at(
                        path,
                        format!("expected {{\"ok\": ...}} or {{\"err\": ...}}, found {json}"),
                    ));
                }
            };
            let value = payload_val(ty, payload, name, path)?;
            Val::Result(if name == "ok" { Ok(value) } else { Err(value) })
        }
        Type::Flags(flags) => {
            let items = json
                .as_array()
                .ok_or_else(|| at(path, format!("expected an array of flags, found {json}")))?;
            let mut set = Vec::new();
            for item in items {
                let name = text(item, path)?;
                if !flags.names().any(|n| n == name) {
                    return Err(at(path, format!("unknown flag `{name}`")));
                }
                set.push(name.to_string());
            }
            Val::Flags(set)
        }
        other => {
            return Err(at(
                path,
                format!("values of type {other:?} cannot be written as JSON"),
            ));
        }
    })
}

fn number(x: f64) -> Json {
    Number::from_f64(x).map_or(Json::Null, Json::Number)
}

/// Converts a value to JSON (the inverse of [`to_val`]).
pub fn from_val(val: &Val) -> Json {
    match val {
        Val::Bool(b) => Json::Bool(*b),
        Val::S8(n) => Json::from(*n),
        Val::U8(n) => Json::from(*n),
        Val::S16(n) => Json::from(*n),
        Val::U16(n) => Json::from(*n),
        Val::S32(n) => Json::from(*n),
        Val::U32(n) => Json::from(*n),
        Val::S64(n) => Json::from(*n),
        Val::U64(n) => Json::from(*n),
        // Through its shortest decimal form, so 0.1f32 reads as 0.1.
        Val::Float32(x) => number(x.to_string().parse().unwrap_or(f64::NAN)),
        Val::Float64(x) => number(*x),
        Val::Char(c) => Json::String(c.to_string()),
        Val::String(s) => Json::String(s.clone()),
        Val::List(items) | Val::Tuple(items) | Val::FixedLengthList(items) => {
            Json::Array(items.iter().map(from_val).collect())
        }
        Val::Record(fields) => Json::Object(
            fields
                .iter()
                .map(|(name, value)| (name.clone(), from_val(value)))
                .collect(),
        ),
        Val::Variant(name, None) | Val::Enum(name) => Json::String(name.clone()),
        Val::Variant(name, Some(payload)) => single(name, from_val(payload)),
        Val::Option(None) => Json::Null,
        Val::Option(Some(value)) => from_val(value),
        Val::Result(Ok(value)) => single("ok", value.as_deref().map_or(Json::Null, from_val)),
        Val::Result(Err(value)) => single("err", value.as_deref().map_or(Json::Null, from_val)),
        Val::Flags(names) => Json::Array(names.iter().cloned().map(Json::String).collect()),
        Val::Map(entries) => Json::Array(
            entries
                .iter()
                .map(|(k, v)| Json::Array(vec![from_val(k), from_val(v)]))
                .collect(),
        ),
        Val::Resource(_) | Val::Future(_) | Val::Stream(_) | Val::ErrorContext(_) => {
            Json::String(format!("<{val:?}>"))
        }
    }
}

fn single(key: &str, value: Json) -> Json {
    let mut map = Map::new();
    map.insert(key.to_string(), value);
    Json::Object(map)
}

/// `json`, a value of type `ty` as [`from_val`] writes it, with every
/// `list<u8>` written as [`bytes_json`] does: for people reading it.
pub fn readable(json: &Json, ty: &Type) -> Json {
    match (ty, json) {
        (Type::List(list), Json::Array(items)) => match list.ty() {
            Type::U8 => {
                let bytes: Option<Vec<u8>> = items
                    .iter()
                    .map(|b| b.as_u64().and_then(|b| u8::try_from(b).ok()))
                    .collect();
                bytes.map_or_else(|| json.clone(), |bytes| bytes_json(&bytes))
            }
            elem => Json::Array(items.iter().map(|item| readable(item, &elem)).collect()),
        },
        (Type::Record(record), Json::Object(map)) => Json::Object(
            record
                .fields()
                .filter_map(|field| {
                    let value = map.get(field.name)?;
                    Some((field.name.to_string(), readable(value, &field.ty)))
                })
                .collect(),
        ),
        (Type::Tuple(tuple), Json::Array(items)) => Json::Array(
            items
                .iter()
                .zip(tuple.types())
                .map(|(item, ty)| readable(item, &ty))
                .collect(),
        ),
        (Type::Variant(variant), Json::Object(map)) if map.len() == 1 => {
            let (name, payload) = map.iter().next().expect("one entry");
            match variant.cases().find(|c| c.name == name).and_then(|c| c.ty) {
                Some(ty) => single(name, readable(payload, &ty)),
                None => json.clone(),
            }
        }
        (Type::Result(result), Json::Object(map)) if map.len() == 1 => {
            let (name, payload) = map.iter().next().expect("one entry");
            let ty = if name == "ok" {
                result.ok()
            } else {
                result.err()
            };
            match ty {
                Some(ty) => single(name, readable(payload, &ty)),
                None => json.clone(),
            }
        }
        (Type::Option(option), value) if !value.is_null() => readable(value, &option.ty()),
        _ => json.clone(),
    }
}

/// Rewrites JSON the way the WIT type would print it (defaults filled in,
/// `list<u8>` strings as byte arrays), so two spellings of one value
/// compare equal.
pub fn normalize(json: &Json, ty: &Type) -> Result<Json, String> {
    to_val(json, ty, "").map(|val| from_val(&val))
}
