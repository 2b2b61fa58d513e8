//! Attachments as pure rules: which content types are accepted (and under which
//! name they are stored), what a filename may contain, how a download is presented
//! (`Content-Disposition`), and the conditional and range requests a
//! download answers. Everything that touches bytes is elsewhere: the file itself
//! never enters wasm (see `platform::r2`).

/// The types accepted unless `ATTACHMENT_TYPES` says otherwise: common images, PDF,
/// plain text, CSV, zip, and the office formats (Microsoft and OpenDocument).
pub const DEFAULT_TYPES: &str = "image/png,image/jpeg,image/gif,image/webp,application/pdf,\
text/plain,text/csv,application/zip,\
application/msword,application/vnd.openxmlformats-officedocument.wordprocessingml.document,\
application/vnd.ms-excel,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,\
application/vnd.ms-powerpoint,application/vnd.openxmlformats-officedocument.presentationml.presentation,\
application/vnd.oasis.opendocument.text,application/vnd.oasis.opendocument.spreadsheet,\
application/vnd.oasis.opendocument.presentation";

use serde::{Deserialize, Serialize};

use super::fields::{id_from_text, id_value};
use super::time::Timestamp;

/// Who uploaded a file: only the same party may send it with a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Uploader {
    Customer,
    Staff,
}

impl Uploader {
    pub fn as_str(self) -> &'static str {
        match self {
            Uploader::Customer => "customer",
            Uploader::Staff => "staff",
        }
    }
}

/// An upload is `pending` from its reservation until R2 has the whole file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadStatus {
    Pending,
    Uploaded,
}

impl UploadStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UploadStatus::Pending => "pending",
            UploadStatus::Uploaded => "uploaded",
        }
    }
}

/// Longest stored filename, in bytes (what most filesystems accept).
pub const MAX_FILENAME_BYTES: usize = 255;

/// The name a file gets when it came without one (or with nothing usable).
pub const DEFAULT_FILENAME: &str = "attachment";

/// Names browsers and operating systems give the same type, mapped to the one we
/// store (Windows reports zip files as `application/x-zip-compressed`).
const TYPE_ALIASES: [(&str, &str); 5] = [
    ("application/x-zip-compressed", "application/zip"),
    ("image/jpg", "image/jpeg"),
    ("image/pjpeg", "image/jpeg"),
    ("text/comma-separated-values", "text/csv"),
    ("application/csv", "text/csv"),
];

/// The accepted content types (`ATTACHMENT_TYPES`), lowercased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedTypes {
    types: Vec<String>,
    /// The list as one sentence part, for the 415's message.
    listed: String,
}

impl AllowedTypes {
    /// A comma-separated list; empty falls back to `DEFAULT_TYPES`.
    pub fn parse(list: &str) -> Self {
        let mut types: Vec<String> = list
            .split(',')
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect();
        if types.is_empty() {
            return Self::parse(DEFAULT_TYPES);
        }
        types.dedup();
        let listed = types.join(", ");
        AllowedTypes { types, listed }
    }

    /// The stored type for a request's `Content-Type`: its media type without
    /// parameters, lowercased, aliases resolved, if it is on the list.
    pub fn accept(&self, content_type: Option<&str>) -> Option<&str> {
        let media = content_type?
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let media = TYPE_ALIASES
            .iter()
            .find(|(alias, _)| *alias == media)
            .map_or(media.as_str(), |(_, canonical)| canonical);
        self.types.iter().find(|t| *t == media).map(String::as_str)
    }

    /// `image/png, image/jpeg, ...`
    pub fn listed(&self) -> &str {
        &self.listed
    }
}

/// Characters a filename never keeps: controls (C0, C1, line and paragraph
/// separators), and the invisible ones that reorder or hide text (bidi embeddings,
/// overrides and isolates, marks, zero-width characters, the BOM, soft hyphens, tags),
/// which could make `invoice.exe` read as `invoice.pdf`.
fn removed(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'
                | '\u{061C}'
                | '\u{180E}'
                | '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{206F}'
                | '\u{FEFF}'
                | '\u{FFF9}'..='\u{FFFB}'
                | '\u{E0000}'..='\u{E007F}'
        )
}

/// A filename safe to store and to send back: the last path component (browsers
/// once sent `C:\Users\...\shot.png`), without removed characters, surrounding
/// space or dots (no hidden `.name`, no Windows-stripped trailing dot), ending in an
/// extension of the stored type (the usual one is added when it does not), at most
/// 255 bytes cut on a character boundary with the extension kept; `attachment` plus
/// the type's usual extension when nothing is left.
pub fn sanitize_filename(raw: &str, content_type: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base.chars().filter(|c| !removed(*c)).collect();
    let trimmed = cleaned.trim_matches(|c: char| c.is_whitespace() || c == '.');
    let name = if trimmed.is_empty() {
        DEFAULT_FILENAME
    } else {
        trimmed
    };
    // The name a computer saves it under must say what the file is: `invoice.pdf.exe`
    // stored as a PDF is saved as `invoice.pdf.exe.pdf`, `page.html` sent as plain
    // text as `page.html.txt`, so opening the saved file never runs it as something else.
    let allowed = extensions_of(content_type);
    let extension = name
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let fits = allowed.is_empty() || extension.is_some_and(|ext| allowed.iter().any(|a| *a == ext));
    if fits {
        truncate_keeping_extension(name, MAX_FILENAME_BYTES)
    } else {
        cut_with_extension(name, allowed[0], MAX_FILENAME_BYTES)
    }
}

fn truncate_keeping_extension(name: &str, max: usize) -> String {
    if name.len() <= max {
        return name.to_owned();
    }
    let (stem, ext) = match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && (1..=16).contains(&ext.len()) => (stem, ext),
        _ => (name, ""),
    };
    cut_with_extension(stem, ext, max)
}

/// `stem` cut to leave room for `.ext` within `max` bytes (on a character boundary,
/// without trailing space or dots), then `.ext` (nothing when `ext` is empty).
fn cut_with_extension(stem: &str, ext: &str, max: usize) -> String {
    let room = if ext.is_empty() {
        max
    } else {
        max - ext.len() - 1
    };
    let stem = stem[..floor_char_boundary(stem, room)]
        .trim_end_matches(|c: char| c.is_whitespace() || c == '.');
    if ext.is_empty() {
        stem.to_owned()
    } else {
        format!("{stem}.{ext}")
    }
}

/// The largest index <= `at` on a character boundary of `s`.
fn floor_char_boundary(s: &str, at: usize) -> usize {
    if at >= s.len() {
        return s.len();
    }
    (0..=at).rev().find(|i| s.is_char_boundary(*i)).unwrap_or(0)
}

/// The extensions a file of an accepted type may be saved under, its usual one first.
/// Empty for a type configured in `ATTACHMENT_TYPES` that is not listed here: its
/// names are kept as they came (whoever allowed the type chose that).
fn extensions_of(content_type: &str) -> &'static [&'static str] {
    match content_type {
        "image/png" => &["png"],
        "image/jpeg" => &["jpg", "jpeg", "jpe", "jfif"],
        "image/gif" => &["gif"],
        "image/webp" => &["webp"],
        "application/pdf" => &["pdf"],
        "text/plain" => &["txt", "text", "log"],
        "text/csv" => &["csv"],
        "application/zip" => &["zip"],
        "application/msword" => &["doc", "dot"],
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => &["docx"],
        "application/vnd.ms-excel" => &["xls", "xlt"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => &["xlsx"],
        "application/vnd.ms-powerpoint" => &["ppt", "pps", "pot"],
        "application/vnd.openxmlformats-officedocument.presentationml.presentation" => &["pptx"],
        "application/vnd.oasis.opendocument.text" => &["odt"],
        "application/vnd.oasis.opendocument.spreadsheet" => &["ods"],
        "application/vnd.oasis.opendocument.presentation" => &["odp"],
        _ => &[],
    }
}

/// The filename a client gave in an upload's `Content-Disposition` header:
/// `filename*` (RFC 5987/8187, UTF-8 or ISO-8859-1) preferred over `filename`
/// (quoted or a token), as RFC 6266 asks. `None` when it has neither.
pub fn filename_from_disposition(header: &str) -> Option<String> {
    let mut plain = None;
    let mut extended = None;
    for param in split_params(header).into_iter().skip(1) {
        let Some((name, value)) = param.split_once('=') else {
            continue;
        };
        match name.trim().to_ascii_lowercase().as_str() {
            "filename*" if extended.is_none() => extended = decode_ext_value(value.trim()),
            "filename" if plain.is_none() => plain = Some(unquote(value.trim())),
            _ => {}
        }
    }
    extended.or(plain)
}

/// Splits on `;` outside quoted strings.
fn split_params(header: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (i, b) in header.bytes().enumerate() {
        match b {
            _ if escaped => escaped = false,
            b'\\' if quoted => escaped = true,
            b'"' => quoted = !quoted,
            b';' if !quoted => {
                parts.push(&header[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&header[start..]);
    parts
}

fn unquote(value: &str) -> String {
    let Some(inner) = value.strip_prefix('"') else {
        return value.to_owned();
    };
    let inner = inner.strip_suffix('"').unwrap_or(inner);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.extend(chars.next()),
            c => out.push(c),
        }
    }
    out
}

/// `charset'language'percent-encoded` (RFC 8187).
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?.to_ascii_lowercase();
    let _language = parts.next()?;
    let bytes = percent_decode(parts.next()?)?;
    match charset.as_str() {
        "utf-8" => String::from_utf8(bytes).ok(),
        "iso-8859-1" => Some(bytes.into_iter().map(char::from).collect()),
        _ => None,
    }
}

fn percent_decode(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// RFC 8187 `attr-char`: what `filename*` may carry without percent-encoding.
fn attr_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b)
}

/// The `Content-Disposition` of a download (RFC 6266): always `attachment`, so a
/// user's file is saved, never shown on our origin (even an image: a browser that
/// sniffs or a future viewer bug is not our risk to take); `filename` with an ASCII
/// fallback, plus `filename*` (UTF-8, percent-encoded) when the name is not plain ASCII.
pub fn content_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    if fallback == filename {
        return format!("attachment; filename=\"{filename}\"");
    }
    let mut encoded = String::with_capacity(filename.len() * 3);
    for b in filename.bytes() {
        if attr_char(b) {
            encoded.push(b as char);
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// What a download answers, given its `Range` and `If-Range` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// 200 with the whole file: no range asked, a range ignored (unknown unit,
    /// malformed, several ranges, an `If-Range` that no longer matches).
    Full,
    /// 206 with bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// 416 with `Content-Range: bytes */size`.
    Unsatisfiable,
}

/// More ranges than this in one header are not even looked at (answered whole).
const MAX_RANGES: usize = 64;

/// Decides a `Range` request (RFC 9110 14.2) against a file of `size` bytes with
/// entity tag `etag`. Only `bytes` ranges; a single satisfiable range is served as
/// asked; several ranges are answered with the whole file (allowed, and simpler
/// than multipart/byteranges) unless none is satisfiable.
pub fn range_answer(
    range: Option<&str>,
    if_range: Option<&str>,
    size: u64,
    etag: &str,
) -> RangeAnswer {
    let Some(range) = range else {
        return RangeAnswer::Full;
    };
    // If-Range holds an entity tag (or a date, which we never gave out): the range
    // applies only to the very representation the client has.
    if let Some(validator) = if_range {
        let validator = validator.trim();
        if validator.starts_with("W/") || validator != etag {
            return RangeAnswer::Full;
        }
    }
    let Some((unit, set)) = range.trim().split_once('=') else {
        return RangeAnswer::Full;
    };
    if !unit.trim().eq_ignore_ascii_case("bytes") {
        return RangeAnswer::Full;
    }
    let specs: Vec<&str> = set.split(',').map(str::trim).collect();
    if specs.len() > MAX_RANGES {
        return RangeAnswer::Full;
    }
    let mut answers = Vec::with_capacity(specs.len());
    for spec in specs {
        match one_range(spec, size) {
            Some(answer) => answers.push(answer),
            None => return RangeAnswer::Full,
        }
    }
    match answers.as_slice() {
        [one] => *one,
        many if many.iter().all(|a| *a == RangeAnswer::Unsatisfiable) => RangeAnswer::Unsatisfiable,
        _ => RangeAnswer::Full,
    }
}

/// One `first-last`, `first-` or `-suffix`; `None` when malformed.
fn one_range(spec: &str, size: u64) -> Option<RangeAnswer> {
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let suffix = number(last)?;
        if suffix == 0 || size == 0 {
            return Some(RangeAnswer::Unsatisfiable);
        }
        return Some(RangeAnswer::Partial {
            start: size - suffix.min(size),
            end: size - 1,
        });
    }
    let start = number(first)?;
    let end = match last {
        "" => None,
        last => Some(number(last)?),
    };
    if end.is_some_and(|end| end < start) {
        return None;
    }
    if start >= size {
        return Some(RangeAnswer::Unsatisfiable);
    }
    Some(RangeAnswer::Partial {
        start,
        end: end.map_or(size - 1, |end| end.min(size - 1)),
    })
}

/// Decimal digits only; a number too large for u64 is as good as infinite.
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(text.parse().unwrap_or(u64::MAX))
}

/// Whether `If-None-Match` matches our entity tag (`*`, or one of a list, compared
/// weakly as RFC 9110 13.1.2 asks).
pub fn none_match(header: &str, etag: &str) -> bool {
    let header = header.trim();
    if header == "*" {
        return true;
    }
    let ours = etag.strip_prefix("W/").unwrap_or(etag);
    header
        .split(',')
        .map(|tag| tag.trim())
        .any(|tag| tag.strip_prefix("W/").unwrap_or(tag) == ours)
}

/// A size as people read it: `512 B`, `1.5 KB`, `10 MB` (powers of 1024; one
/// decimal under 10). Integer arithmetic only: formatting an `f64` would pull
/// float-printing code into the wasm.
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut unit = 0;
    let mut scale: u64 = 1024;
    while bytes / scale >= 1024 && unit < UNITS.len() - 1 {
        scale *= 1024;
        unit += 1;
    }
    // Tenths of the unit, rounded to nearest.
    let tenths = (bytes * 10 + scale / 2) / scale;
    if tenths < 100 && !tenths.is_multiple_of(10) {
        format!("{}.{} {}", tenths / 10, tenths % 10, UNITS[unit])
    } else {
        format!("{} {}", (tenths + 5) / 10, UNITS[unit])
    }
}

/// Attachment ids a message references: a JSON array of ids (integers or decimal
/// strings), or one string of comma-separated ids (what an HTML form can send).
/// Duplicates are refused rather than silently merged. `Err` is the message for the
/// `attachment_ids` field.
pub fn parse_ids(
    value: &serde_json::Value,
    max: usize,
) -> Result<Vec<i64>, (&'static str, String)> {
    use serde_json::Value;
    let invalid = || {
        (
            "invalid_type",
            "attachment_ids must be a list of attachment ids".to_owned(),
        )
    };
    let ids: Vec<i64> = match value {
        Value::Null => vec![],
        Value::Array(items) => items
            .iter()
            .map(id_value)
            .collect::<Option<_>>()
            .ok_or_else(invalid)?,
        Value::String(s) if s.trim().is_empty() => vec![],
        Value::String(s) => s
            .split(',')
            .map(id_from_text)
            .collect::<Option<_>>()
            .ok_or_else(invalid)?,
        _ => return Err(invalid()),
    };
    if ids.len() > max {
        return Err((
            "too_many",
            format!(
                "A message may carry at most {max} attachments (got {})",
                ids.len()
            ),
        ));
    }
    for (i, id) in ids.iter().enumerate() {
        if ids[..i].contains(id) {
            return Err((
                "duplicate",
                format!("Attachment {id} is listed more than once"),
            ));
        }
    }
    Ok(ids)
}

/// Why an id a message referenced cannot be sent with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// No such attachment on this ticket (or an internal one, for a customer: the
    /// same answer, so ids of other tickets cannot be probed).
    Unknown,
    /// Uploaded by the other party, or by another staff member.
    NotYours,
    /// Its upload has not finished.
    Pending,
    /// Already sent with a message.
    AlreadySent,
    /// Unsent for longer than `ATTACHMENT_ORPHAN_HOURS`: the cron removes it.
    Expired,
}

impl Unusable {
    pub fn code(self) -> &'static str {
        match self {
            Unusable::Unknown => "unknown_attachment",
            Unusable::NotYours => "not_your_attachment",
            Unusable::Pending => "attachment_pending",
            Unusable::AlreadySent => "attachment_already_sent",
            Unusable::Expired => "attachment_expired",
        }
    }

    pub fn message(self, id: i64) -> String {
        match self {
            Unusable::Unknown => format!("Attachment {id} does not exist on this ticket"),
            Unusable::NotYours => format!("Attachment {id} was uploaded by someone else"),
            Unusable::Pending => format!("Attachment {id} has not finished uploading"),
            Unusable::AlreadySent => format!("Attachment {id} was already sent with a message"),
            Unusable::Expired => format!("Attachment {id} expired; upload the file again"),
        }
    }
}

/// What the store knows about one id a message referenced.
#[derive(Debug, Clone)]
pub struct Candidate {
    pub id: i64,
    pub ticket_id: i64,
    pub uploader: Uploader,
    pub staff_id: Option<i64>,
    pub status: UploadStatus,
    pub sent: bool,
    pub created_at: Timestamp,
}

/// Why `id` cannot go with a message on `ticket_id` sent by `sender` (a staff
/// member's id with `Uploader::Staff`), or `None` when it can. Unsent files older than
/// `expired_at_or_before` are the cron's. A customer learns nothing about files that
/// are not theirs: they are all `Unknown`.
pub fn why_unusable(
    id: i64,
    candidates: &[Candidate],
    ticket_id: i64,
    sender: Uploader,
    sender_staff_id: Option<i64>,
    expired_at_or_before: Timestamp,
) -> Option<Unusable> {
    let Some(c) = candidates
        .iter()
        .find(|c| c.id == id && c.ticket_id == ticket_id)
    else {
        return Some(Unusable::Unknown);
    };
    let theirs =
        c.uploader == sender && (sender == Uploader::Customer || c.staff_id == sender_staff_id);
    if !theirs {
        return Some(match sender {
            Uploader::Customer => Unusable::Unknown,
            Uploader::Staff => Unusable::NotYours,
        });
    }
    if c.sent {
        Some(Unusable::AlreadySent)
    } else if c.status == UploadStatus::Pending {
        Some(Unusable::Pending)
    } else if c.created_at <= expired_at_or_before {
        Some(Unusable::Expired)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn which_ids_a_message_may_carry() {
        let t = |s: &str| Timestamp::parse(s).unwrap();
        let cutoff = t("2026-01-01T00:00:00Z");
        let c = |id, ticket_id, uploader, staff_id, status, sent, at: &str| Candidate {
            id,
            ticket_id,
            uploader,
            staff_id,
            status,
            sent,
            created_at: t(at),
        };
        use UploadStatus::*;
        use Uploader::*;
        let later = "2026-01-02T00:00:00Z";
        let rows = [
            c(1, 10, Customer, None, Uploaded, false, later),
            c(2, 11, Customer, None, Uploaded, false, later),
            c(3, 10, Staff, Some(7), Uploaded, false, later),
            c(4, 10, Customer, None, Pending, false, later),
            c(5, 10, Customer, None, Uploaded, true, later),
            c(
                6,
                10,
                Customer,
                None,
                Uploaded,
                false,
                "2025-12-31T00:00:00Z",
            ),
        ];
        let customer = |id| why_unusable(id, &rows, 10, Customer, None, cutoff);
        assert_eq!(customer(1), None);
        assert_eq!(customer(2), Some(Unusable::Unknown), "another ticket's");
        assert_eq!(
            customer(3),
            Some(Unusable::Unknown),
            "staff's, not revealed"
        );
        assert_eq!(customer(4), Some(Unusable::Pending));
        assert_eq!(customer(5), Some(Unusable::AlreadySent));
        assert_eq!(customer(6), Some(Unusable::Expired));
        assert_eq!(customer(99), Some(Unusable::Unknown));
        let staff = |id, me| why_unusable(id, &rows, 10, Staff, Some(me), cutoff);
        assert_eq!(staff(3, 7), None);
        assert_eq!(staff(3, 8), Some(Unusable::NotYours));
        assert_eq!(staff(1, 7), Some(Unusable::NotYours));
        assert_eq!(
            Unusable::Unknown.message(9),
            "Attachment 9 does not exist on this ticket"
        );
    }

    #[test]
    fn types_are_allowlisted_without_parameters_and_with_aliases() {
        let types = AllowedTypes::parse(DEFAULT_TYPES);
        assert_eq!(types.accept(Some("image/png")), Some("image/png"));
        assert_eq!(types.accept(Some("Image/PNG; q=1")), Some("image/png"));
        assert_eq!(
            types.accept(Some("text/plain; charset=utf-8")),
            Some("text/plain")
        );
        assert_eq!(types.accept(Some("image/jpg")), Some("image/jpeg"));
        assert_eq!(
            types.accept(Some("application/x-zip-compressed")),
            Some("application/zip")
        );
        for refused in [
            None,
            Some(""),
            Some("text/html"),
            Some("image/svg+xml"),
            Some("application/octet-stream"),
            Some("application/x-msdownload"),
            Some("image/png, text/html"),
        ] {
            assert_eq!(types.accept(refused), None, "{refused:?}");
        }
        let custom = AllowedTypes::parse(" Image/PNG , ,application/pdf");
        assert_eq!(custom.listed(), "image/png, application/pdf");
        assert_eq!(custom.accept(Some("image/jpeg")), None);
        assert_eq!(AllowedTypes::parse(" , "), types);
    }

    #[test]
    fn filenames_lose_paths_controls_and_invisible_characters() {
        let png = "image/png";
        assert_eq!(sanitize_filename("screenshot.png", png), "screenshot.png");
        assert_eq!(
            sanitize_filename("C:\\Users\\me\\shot.png", png),
            "shot.png"
        );
        assert_eq!(
            sanitize_filename("../../etc/passwd", "application/x-custom"),
            "passwd"
        );
        assert_eq!(
            sanitize_filename("a\u{0}b\r\nc\u{7f}\u{85}.png", png),
            "abc.png"
        );
        // With the right-to-left override, "invoice" U+202E "fdp.exe" shows as "invoiceexe.pdf".
        assert_eq!(
            sanitize_filename("invoice\u{202E}fdp.exe", "application/x-custom"),
            "invoicefdp.exe"
        );
        let text = "text/plain";
        assert_eq!(
            sanitize_filename("a\u{200B}\u{200D}\u{2066}b\u{FEFF}\u{00AD}.txt", text),
            "ab.txt"
        );
        assert_eq!(sanitize_filename("  .hidden.  ", png), "hidden.png");
        assert_eq!(
            sanitize_filename("résumé 履歴書.pdf", "application/pdf"),
            "résumé 履歴書.pdf"
        );
        assert_eq!(sanitize_filename("", png), "attachment.png");
        assert_eq!(
            sanitize_filename(" / \\ .. \u{202E}", png),
            "attachment.png"
        );
        assert_eq!(
            sanitize_filename("", "application/msword"),
            "attachment.doc"
        );
        assert_eq!(sanitize_filename("", "application/x-custom"), "attachment");
    }

    #[test]
    fn the_saved_name_ends_in_an_extension_of_the_stored_type() {
        let pdf = "application/pdf";
        assert_eq!(
            sanitize_filename("Invoice.pdf.exe", pdf),
            "Invoice.pdf.exe.pdf"
        );
        assert_eq!(sanitize_filename("Report.PDF", pdf), "Report.PDF");
        assert_eq!(
            sanitize_filename("page.html", "text/plain"),
            "page.html.txt"
        );
        assert_eq!(sanitize_filename("logo.svg", "image/png"), "logo.svg.png");
        assert_eq!(sanitize_filename("photo.JPEG", "image/jpeg"), "photo.JPEG");
        assert_eq!(sanitize_filename("notes", "text/plain"), "notes.txt");
        assert_eq!(sanitize_filename("run.sh.", "text/plain"), "run.sh.txt");
        // The added extension still fits in 255 bytes, cut on a character boundary.
        let long = format!("{}.exe", "é".repeat(200));
        let cut = sanitize_filename(&long, pdf);
        assert!(
            cut.len() <= MAX_FILENAME_BYTES && cut.ends_with("é.pdf"),
            "{cut}"
        );
    }

    #[test]
    fn long_filenames_are_cut_on_a_character_boundary_keeping_the_extension() {
        let long = format!("{}.jpeg", "é".repeat(200));
        let cut = sanitize_filename(&long, "image/jpeg");
        assert!(cut.len() <= MAX_FILENAME_BYTES, "{}", cut.len());
        assert!(cut.ends_with("é.jpeg"));
        assert_eq!(cut.len(), 255); // 125 two-byte é, a dot and the extension
        let odd = format!("{}.png", "é".repeat(130));
        let cut = sanitize_filename(&odd, "image/png");
        assert_eq!(cut.len(), 254, "251 bytes of stem would end inside an é");
        let no_ext = "日".repeat(100);
        let cut = sanitize_filename(&no_ext, "application/x-custom");
        assert_eq!(cut.len(), 255);
        assert!(cut.chars().all(|c| c == '日'));
        let odd_ext = format!("a.{}", "x".repeat(300));
        assert_eq!(
            sanitize_filename(&odd_ext, "application/x-custom").len(),
            255
        );
        // 251 bytes of stem end inside a 日: 249 bytes, then ".txt".
        assert_eq!(sanitize_filename(&no_ext, "text/plain").len(), 253);
    }

    #[test]
    fn disposition_headers_are_safe_and_carry_unicode_names() {
        assert_eq!(
            content_disposition("report.pdf"),
            "attachment; filename=\"report.pdf\""
        );
        assert_eq!(
            content_disposition("naïve résumé.pdf"),
            "attachment; filename=\"na_ve r_sum_.pdf\"; filename*=UTF-8''na%C3%AFve%20r%C3%A9sum%C3%A9.pdf"
        );
        assert_eq!(
            content_disposition("say \"hi\"\\%41.png"),
            "attachment; filename=\"say _hi___41.png\"; filename*=UTF-8''say%20%22hi%22%5C%2541.png"
        );
    }

    #[test]
    fn upload_filenames_come_from_content_disposition() {
        let f = filename_from_disposition;
        assert_eq!(
            f("attachment; filename=\"a b.png\"").as_deref(),
            Some("a b.png")
        );
        assert_eq!(
            f("attachment; filename=plain.txt").as_deref(),
            Some("plain.txt")
        );
        assert_eq!(
            f("attachment; filename=\"x.png\"; filename*=UTF-8''%E2%82%AC%20rates.png").as_deref(),
            Some("€ rates.png")
        );
        assert_eq!(
            f("attachment; FILENAME*=iso-8859-1'en'%A3%20rates.txt").as_deref(),
            Some("£ rates.txt")
        );
        assert_eq!(
            f("form-data; name=\"f\"; filename=\"semi;colon \\\"q\\\".txt\"").as_deref(),
            Some("semi;colon \"q\".txt")
        );
        // A broken filename* falls back to filename.
        assert_eq!(
            f("attachment; filename*=UTF-8''%ZZ; filename=ok.txt").as_deref(),
            Some("ok.txt")
        );
        assert_eq!(f("attachment").as_deref(), None);
        assert_eq!(f("").as_deref(), None);
    }

    const TAG: &str = "\"abc\"";

    #[test]
    fn single_ranges() {
        let r = |h: &str| range_answer(Some(h), None, 1000, TAG);
        let part = |start, end| RangeAnswer::Partial { start, end };
        assert_eq!(range_answer(None, None, 1000, TAG), RangeAnswer::Full);
        assert_eq!(r("bytes=0-499"), part(0, 499));
        assert_eq!(r("bytes=500-"), part(500, 999));
        assert_eq!(r("bytes=-100"), part(900, 999));
        assert_eq!(r("bytes=-5000"), part(0, 999));
        assert_eq!(r("bytes=990-5000"), part(990, 999));
        assert_eq!(r("Bytes = 0-0"), part(0, 0));
        assert_eq!(r("bytes=1000-"), RangeAnswer::Unsatisfiable);
        assert_eq!(
            r("bytes=99999999999999999999999-"),
            RangeAnswer::Unsatisfiable
        );
        assert_eq!(r("bytes=-0"), RangeAnswer::Unsatisfiable);
        assert_eq!(
            range_answer(Some("bytes=0-"), None, 0, TAG),
            RangeAnswer::Unsatisfiable
        );
    }

    #[test]
    fn ranges_that_are_ignored() {
        let r = |h: &str| range_answer(Some(h), None, 1000, TAG);
        for ignored in [
            "items=0-1",
            "bytes",
            "bytes=",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=0x10-",
            "bytes=--1",
            "bytes=1-2-3",
            "bytes=0-1,2-3",
            "bytes=0-1, 5000-",
        ] {
            assert_eq!(r(ignored), RangeAnswer::Full, "{ignored}");
        }
        assert_eq!(r("bytes=2000-, 3000-"), RangeAnswer::Unsatisfiable);
        let many = format!("bytes={}", vec!["5000-"; 100].join(","));
        assert_eq!(r(&many), RangeAnswer::Full);
    }

    #[test]
    fn if_range_must_match_strongly() {
        let r = |v: &str| range_answer(Some("bytes=0-9"), Some(v), 1000, TAG);
        assert_eq!(r("\"abc\""), RangeAnswer::Partial { start: 0, end: 9 });
        assert_eq!(r("\"old\""), RangeAnswer::Full);
        assert_eq!(r("W/\"abc\""), RangeAnswer::Full);
        assert_eq!(r("Tue, 15 Nov 1994 08:12:31 GMT"), RangeAnswer::Full);
    }

    #[test]
    fn if_none_match() {
        assert!(none_match("\"abc\"", TAG));
        assert!(none_match("W/\"abc\"", TAG));
        assert!(none_match("\"x\", \"abc\"", TAG));
        assert!(none_match("*", TAG));
        assert!(!none_match("\"abcd\"", TAG));
        assert!(!none_match("", TAG));
    }

    #[test]
    fn sizes_people_read() {
        assert_eq!(human_size(0), "0 B");
        assert_eq!(human_size(1023), "1023 B");
        assert_eq!(human_size(1536), "1.5 KB");
        assert_eq!(human_size(100 * 1024), "100 KB");
        assert_eq!(human_size(10 * 1024 * 1024), "10 MB");
        assert_eq!(human_size(2_500_000), "2.4 MB");
    }

    #[test]
    fn message_attachment_ids() {
        assert_eq!(parse_ids(&json!(null), 5), Ok(vec![]));
        assert_eq!(parse_ids(&json!([]), 5), Ok(vec![]));
        assert_eq!(parse_ids(&json!([3, "4"]), 5), Ok(vec![3, 4]));
        assert_eq!(parse_ids(&json!("3, 4,5"), 5), Ok(vec![3, 4, 5]));
        assert_eq!(parse_ids(&json!(""), 5), Ok(vec![]));
        for bad in [
            json!([0]),
            json!([-1]),
            json!([1.5]),
            json!(["x"]),
            json!([[1]]),
            json!({"id": 1}),
            json!(7),
            json!("1,,2"),
            json!([9007199254740992_i64]),
        ] {
            assert_eq!(parse_ids(&bad, 5).unwrap_err().0, "invalid_type", "{bad}");
        }
        assert_eq!(parse_ids(&json!([1, 2, 3]), 2).unwrap_err().0, "too_many");
        assert_eq!(parse_ids(&json!([1, 2, 1]), 5).unwrap_err().0, "duplicate");
    }
}
