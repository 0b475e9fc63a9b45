//! Building blocks of the OpenAPI 3.1 description served at `/api/v1/openapi.json`,
//! written by hand (the handlers parse their input themselves to name the failing field,
//! so there is little for a derive to read). Each resource module describes its own paths
//! and schemas as a [`Part`]; [`super::document`] puts the parts together.

use serde_json::{json, Map, Value};

use super::input::MAX_LIMIT;

/// A module's part of the document: its paths (each with its operations) and the schemas
/// they refer to, in the document's order.
pub struct Part {
    /// `paths` entries: path -> method -> operation.
    pub paths: Map<String, Value>,
    /// `components.schemas` entries.
    pub schemas: Map<String, Value>,
}

impl Part {
    /// A part from two JSON objects (`paths` and `schemas`).
    pub fn new(paths: Value, schemas: Value) -> Self {
        let map = |v: Value| match v {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Self {
            paths: map(paths),
            schemas: map(schemas),
        }
    }
}

/// An error answer (tern's `{"error", "message", "field"}`).
pub fn err(desc: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } })
}

/// A JSON answer of a schema of the document.
pub fn ok(desc: &str, schema: &str) -> Value {
    json!({ "description": desc, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

/// A JSON request body of a schema of the document.
pub fn body(schema: &str) -> Value {
    json!({ "required": true, "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{schema}") } } } })
}

/// The `limit` query parameter of the lists.
pub fn page_size() -> Value {
    query("limit", "Page size (1 to 1000, default 100)")
}

/// A path parameter, with the bounds the handlers enforce.
pub fn path_param(name: &str, desc: &str) -> Value {
    let schema = match name {
        "id" => json!({ "type": "integer", "minimum": 1, "maximum": i32::MAX }),
        "ip_address" => json!({ "type": "string", "format": "ipv4" }),
        "hw_address" | "client_id" => json!({ "type": "string", "pattern": HEX_ID }),
        _ => json!({ "type": "string" }),
    };
    json!({ "name": name, "in": "path", "required": true, "description": desc, "schema": schema })
}

/// An identifier as the API accepts it (`kea::parse_hex`): hex bytes, either of one or two
/// digits separated by `:`, `-` or `.`, or pairs without separators, optionally after
/// `0x`; or text in single quotes.
pub const HEX_ID: &str =
    r"^\s*((0x)?([0-9A-Fa-f]{1,2}([:.-][0-9A-Fa-f]{1,2})+|([0-9A-Fa-f]{2})+)|'[\s\S]+')\s*$";

/// A query parameter with the bounds the handlers enforce (a 400 otherwise).
pub fn query(name: &str, desc: &str) -> Value {
    let schema = match name {
        "subnet-id" => json!({ "type": "integer", "minimum": 0, "maximum": u32::MAX }),
        "limit" => json!({ "type": "integer", "minimum": 1, "maximum": MAX_LIMIT }),
        "state" => json!({ "type": "integer", "minimum": 0, "maximum": 4 }),
        "hw-address" | "client-id" => json!({ "type": "string", "pattern": HEX_ID }),
        "ip-address" => json!({ "type": "string", "format": "ipv4" }),
        "after" => json!({ "type": "integer", "minimum": 0, "maximum": i32::MAX }),
        _ => json!({ "type": "string" }),
    };
    query_with(name, desc, schema)
}

/// A query parameter with its own schema.
pub fn query_with(name: &str, desc: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": desc, "schema": schema })
}

/// The 400 and 401 every REST operation can give, and `extra` ones.
pub fn common_errors(op: &mut Value, extra: &[(&str, &str)]) {
    let r = op["responses"].as_object_mut().expect("responses");
    r.insert("400".into(), err("Bad request: the named field is wrong"));
    r.insert("401".into(), err("No or wrong credentials"));
    for (code, desc) in extra {
        r.insert((*code).into(), err(desc));
    }
}

/// The handlers read a JSON `null` as an absent field (as `kea::Args` does for Kea's
/// commands), so every optional typed property also admits `null`.
pub fn nullable_optionals(schema: &mut Value) {
    let required: Vec<Value> = schema["required"].as_array().cloned().unwrap_or_default();
    let Some(props) = schema["properties"].as_object_mut() else {
        return;
    };
    for (name, p) in props.iter_mut() {
        if required.contains(&Value::String(name.clone())) {
            continue;
        }
        match p.get("type").cloned() {
            Some(Value::String(t)) => p["type"] = json!([t, "null"]),
            Some(Value::Array(mut ts)) if !ts.contains(&json!("null")) => {
                ts.push(json!("null"));
                p["type"] = Value::Array(ts);
            }
            _ => {}
        }
    }
}
