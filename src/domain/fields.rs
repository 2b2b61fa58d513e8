//! Reading typed values out of a decoded body (a JSON object, or form pairs turned
//! into one), collecting every problem instead of stopping at the first.

use serde_json::{Map, Value};

use super::validation::FieldError;

/// A decoded request body: field name to value. Form posts become string values.
pub type Fields = Map<String, Value>;

/// What a text field must look like.
#[derive(Clone, Copy)]
pub struct TextRule {
    pub label: &'static str,
    pub max_chars: usize,
    /// Single-line fields (subject, name) refuse line breaks as well as other controls.
    pub multiline: bool,
}

/// Reads an optional string field, trimmed. Empty and `null` count as absent.
/// Pushes a problem and returns `None` when the field is present but invalid.
pub fn optional_text(
    fields: &Fields,
    name: &str,
    rule: TextRule,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let raw = match fields.get(name) {
        None | Some(Value::Null) => return None,
        Some(Value::String(s)) => s,
        Some(other) => {
            errors.push(FieldError::new(
                name,
                "invalid_type",
                format!("{} must be a string, not {}", rule.label, json_type(other)),
            ));
            return None;
        }
    };
    let value = raw.trim();
    if value.is_empty() {
        return None;
    }
    let chars = value.chars().count();
    if chars > rule.max_chars {
        errors.push(FieldError::new(
            name,
            "too_long",
            format!(
                "{} must be at most {} characters (got {})",
                rule.label, rule.max_chars, chars
            ),
        ));
        return None;
    }
    if value.chars().any(|c| !allowed_char(c, rule.multiline)) {
        let what = if rule.multiline {
            "control characters"
        } else {
            "control, invisible or text-direction characters"
        };
        errors.push(FieldError::new(
            name,
            "invalid_characters",
            format!("{} contains {what}", rule.label),
        ));
        return None;
    }
    Some(value.to_owned())
}

/// Like `optional_text`, but a missing value is pushed as `required`.
pub fn required_text(
    fields: &Fields,
    name: &str,
    rule: TextRule,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let before = errors.len();
    let value = optional_text(fields, name, rule, errors);
    if value.is_none() && errors.len() == before {
        errors.push(FieldError::new(
            name,
            "required",
            format!("{} is required", rule.label),
        ));
    }
    value
}

/// Ids are stored as SQLite integers and bound as JS numbers: keep them exact.
const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;

/// A positive id from a JSON integer or a decimal string (HTML forms can only send
/// strings), at most `MAX_SAFE_INTEGER`.
pub fn id_value(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => n.as_i64().filter(|id| (1..=MAX_SAFE_INTEGER).contains(id)),
        Value::String(s) => id_from_text(s),
        _ => None,
    }
}

/// A positive id written in decimal (surrounding space ignored).
pub fn id_from_text(text: &str) -> Option<i64> {
    let text = text.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<i64>()
        .ok()
        .filter(|id| (1..=MAX_SAFE_INTEGER).contains(id))
}

/// Reads an optional positive integer id: a JSON integer, or a decimal string
/// (HTML forms can only send strings).
pub fn optional_id(
    fields: &Fields,
    name: &str,
    label: &str,
    errors: &mut Vec<FieldError>,
) -> Option<i64> {
    let parsed = match fields.get(name) {
        None | Some(Value::Null) => return None,
        Some(Value::String(s)) if s.trim().is_empty() => return None,
        Some(v @ (Value::Number(_) | Value::String(_))) => id_value(v),
        Some(other) => {
            errors.push(FieldError::new(
                name,
                "invalid_type",
                format!("{label} must be an integer, not {}", json_type(other)),
            ));
            return None;
        }
    };
    if parsed.is_none() {
        errors.push(FieldError::new(
            name,
            "invalid_integer",
            format!("{label} must be a positive integer"),
        ));
    }
    parsed
}

/// Names a JSON value's type the way a client developer would.
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn allowed_char(c: char, multiline: bool) -> bool {
    if multiline {
        // Long text keeps bidi and zero-width characters (real languages need them);
        // pages isolate it so it cannot reorder what is around it.
        return matches!(c, '\n' | '\r' | '\t') || !(c.is_control() || is_line_separator(c));
    }
    !(c.is_control() || is_line_separator(c) || is_invisible_or_reordering(c))
}

/// The Unicode line and paragraph separators.
fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

/// Bidi embedding, override and isolate controls, and zero-width characters: in a
/// one-line field (a subject, a name) they only serve to disguise text
/// (`Invoice \u{202E}gnp.exe` reads as `Invoice exe.png`).
pub fn is_invisible_or_reordering(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const RULE: TextRule = TextRule {
        label: "Subject",
        max_chars: 5,
        multiline: false,
    };

    fn fields(v: Value) -> Fields {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn trims_and_counts_characters_not_bytes() {
        let mut errors = vec![];
        let f = fields(json!({"s": "  héllo  ", "e": "😀😀😀😀😀"}));
        assert_eq!(
            optional_text(&f, "s", RULE, &mut errors).as_deref(),
            Some("héllo")
        );
        assert_eq!(
            optional_text(&f, "e", RULE, &mut errors).as_deref(),
            Some("😀😀😀😀😀")
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn too_long_after_trimming() {
        let mut errors = vec![];
        let f = fields(json!({"s": "123456"}));
        assert_eq!(optional_text(&f, "s", RULE, &mut errors), None);
        assert_eq!(errors[0].code, "too_long");
    }

    #[test]
    fn blank_required_is_missing() {
        let mut errors = vec![];
        let f = fields(json!({"s": "   "}));
        assert_eq!(required_text(&f, "s", RULE, &mut errors), None);
        assert_eq!(errors[0].code, "required");
    }

    #[test]
    fn wrong_type_is_named() {
        let mut errors = vec![];
        let f = fields(json!({"s": 12}));
        assert_eq!(required_text(&f, "s", RULE, &mut errors), None);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, "invalid_type");
        assert!(errors[0].message.contains("a number"));
    }

    #[test]
    fn single_line_refuses_newlines_multiline_accepts_them() {
        let mut errors = vec![];
        let f = fields(json!({"s": "a\nb"}));
        assert_eq!(optional_text(&f, "s", RULE, &mut errors), None);
        assert_eq!(errors[0].code, "invalid_characters");
        let multi = TextRule {
            multiline: true,
            ..RULE
        };
        let mut errors = vec![];
        assert_eq!(
            optional_text(&f, "s", multi, &mut errors).as_deref(),
            Some("a\nb")
        );
        let nul = fields(json!({"s": "a\u{0}b"}));
        for disguised in [
            "a\u{202E}b",
            "a\u{2066}b",
            "a\u{200B}b",
            "\u{FEFF}ab",
            "a\u{2060}b",
        ] {
            let mut errors = vec![];
            let f = fields(json!({ "s": disguised }));
            assert_eq!(
                optional_text(&f, "s", RULE, &mut errors),
                None,
                "{disguised:?}"
            );
            assert_eq!(errors[0].code, "invalid_characters");
            let mut errors = vec![];
            assert!(optional_text(&f, "s", multi, &mut errors).is_some());
        }
        assert_eq!(optional_text(&nul, "s", multi, &mut errors), None);
    }

    #[test]
    fn ids_from_numbers_and_decimal_strings() {
        let mut errors = vec![];
        let f = fields(json!({"a": 12, "b": " 34 ", "c": "", "d": null}));
        assert_eq!(optional_id(&f, "a", "id", &mut errors), Some(12));
        assert_eq!(optional_id(&f, "b", "id", &mut errors), Some(34));
        assert_eq!(optional_id(&f, "c", "id", &mut errors), None);
        assert_eq!(optional_id(&f, "d", "id", &mut errors), None);
        assert!(errors.is_empty());
    }

    #[test]
    fn bad_ids_are_refused() {
        for bad in [
            json!(0),
            json!(-3),
            json!(1.5),
            json!("12a"),
            json!("-1"),
            json!(9007199254740993i64),
            json!("99999999999999999999"),
        ] {
            let mut errors = vec![];
            let f = fields(json!({ "a": bad }));
            assert_eq!(optional_id(&f, "a", "id", &mut errors), None, "{bad}");
            assert_eq!(errors[0].code, "invalid_integer", "{bad}");
        }
        let mut errors = vec![];
        let f = fields(json!({"a": true}));
        assert_eq!(optional_id(&f, "a", "id", &mut errors), None);
        assert_eq!(errors[0].code, "invalid_type");
    }
}
