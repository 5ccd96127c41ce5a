//! One finding as an element of the JSON report's `findings` list, written by hand: the
//! same bytes `serde_json::to_writer_pretty` gives, indented two levels, without going
//! through its serializer. A bench report holds ~56,000 findings of ~10 strings each, and
//! serde_json's byte-at-a-time escaping plus its per-field calls were ~6 % of a diff's
//! instructions; this takes about a third of that (1,241 → 1,190 M instructions on the
//! small bench estate). The tests hold the two byte for byte equal.

use envparity_core::finding::{Finding, Location, Side};

/// Appends `finding` as serde_json's pretty form, every line after the first indented by
/// `indent` more spaces (its first line gets them too).
pub(crate) fn write(out: &mut Vec<u8>, finding: &Finding, indent: usize) {
    // Every field named (no `..`): a field added to `Finding` must be written here too.
    let Finding {
        facet,
        class,
        severity,
        key,
        group,
        resource,
        a,
        b,
        message,
        reason,
        covers,
    } = finding;
    let mut w = Writer { out, indent };
    w.pad(0);
    w.out.push(b'{');
    w.field(1, "facet", true);
    w.string(facet.name());
    w.field(1, "class", false);
    w.string(class.name());
    w.field(1, "severity", false);
    w.string(severity.name());
    w.field(1, "key", false);
    w.string(key);
    w.field(1, "group", false);
    w.string(group);
    if let Some(resource) = resource {
        w.field(1, "resource", false);
        w.string(resource);
    }
    w.field(1, "a", false);
    w.side(a);
    w.field(1, "b", false);
    w.side(b);
    w.field(1, "message", false);
    w.string(message);
    if let Some(reason) = reason {
        w.field(1, "reason", false);
        w.string(reason);
    }
    if *covers != 1 {
        w.field(1, "covers", false);
        w.number(*covers);
    }
    w.close(0);
}

struct Writer<'o> {
    out: &'o mut Vec<u8>,
    indent: usize,
}

impl Writer<'_> {
    /// The indentation of `depth`.
    fn pad(&mut self, depth: usize) {
        let n = self.indent + 2 * depth;
        self.out.extend(std::iter::repeat_n(b' ', n));
    }

    /// `,` unless first, a line break, the indentation and `"name": `.
    fn field(&mut self, depth: usize, name: &str, first: bool) {
        if !first {
            self.out.push(b',');
        }
        self.out.push(b'\n');
        self.pad(depth);
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\": ");
    }

    /// A line break, the indentation of `depth` and `}`.
    fn close(&mut self, depth: usize) {
        self.out.push(b'\n');
        self.pad(depth);
        self.out.push(b'}');
    }

    fn side(&mut self, side: &Side) {
        let Side {
            env,
            value,
            location,
        } = side;
        self.out.push(b'{');
        self.field(2, "env", true);
        self.string(env);
        self.field(2, "value", false);
        match value {
            Some(v) => self.string(v),
            None => self.out.extend_from_slice(b"null"),
        }
        self.field(2, "location", false);
        match location {
            Some(Location { file, line, column }) => {
                self.out.push(b'{');
                self.field(3, "file", true);
                self.string(file);
                self.field(3, "line", false);
                self.number(*line);
                if let Some(column) = column {
                    self.field(3, "column", false);
                    self.number(*column);
                }
                self.close(2);
            }
            None => self.out.extend_from_slice(b"null"),
        }
        self.close(1);
    }

    fn number(&mut self, n: u32) {
        use std::io::Write;
        write!(self.out, "{n}").expect("a Vec takes every write");
    }

    /// A JSON string as serde_json escapes it: `"` and `\`, the control characters (the
    /// usual five by letter, the rest as `\u00xx`); everything else as it is.
    fn string(&mut self, s: &str) {
        let bytes = s.as_bytes();
        self.out.reserve(bytes.len() + 2);
        self.out.push(b'"');
        let mut copied = 0;
        let mut i = next_escape(bytes, 0);
        while i < bytes.len() {
            self.out.extend_from_slice(&bytes[copied..i]);
            let escaped: &[u8] = match bytes[i] {
                b'"' => b"\\\"",
                b'\\' => b"\\\\",
                b'\n' => b"\\n",
                b'\r' => b"\\r",
                b'\t' => b"\\t",
                0x08 => b"\\b",
                0x0c => b"\\f",
                c => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    let code = [
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[usize::from(c >> 4)],
                        HEX[usize::from(c & 0xf)],
                    ];
                    self.out.extend_from_slice(&code);
                    &[]
                }
            };
            self.out.extend_from_slice(escaped);
            copied = i + 1;
            i = next_escape(bytes, copied);
        }
        self.out.extend_from_slice(&bytes[copied..]);
        self.out.push(b'"');
    }
}

/// The first position from `i` of a byte JSON escapes (`"`, `\`, below 0x20), or the end.
fn next_escape(bytes: &[u8], i: usize) -> usize {
    envparity_core::pattern::first_stop(bytes, i, 0x20, [b'"', b'\\'])
}

#[cfg(test)]
mod tests {
    use super::*;
    use envparity_core::{Class, Facet, Severity};

    fn serde_form(finding: &Finding, indent: usize) -> String {
        let one = serde_json::to_string_pretty(finding).unwrap();
        let pad = " ".repeat(indent);
        format!("{pad}{}", one.replace('\n', &format!("\n{pad}")))
    }

    fn ours(finding: &Finding, indent: usize) -> String {
        let mut out = Vec::new();
        write(&mut out, finding, indent);
        String::from_utf8(out).unwrap()
    }

    fn finding(text: &str, n: u32, full: bool) -> Finding {
        let side = |env: &str, some: bool| Side {
            env: env.to_string(),
            value: some.then(|| format!("{text}-{env}")),
            location: some.then(|| Location {
                file: format!("{env}/{text}.yaml"),
                line: n,
                column: None,
            }),
        };
        Finding {
            facet: Facet::Config,
            class: Class::EnvEquivalent,
            severity: Severity::Info,
            key: format!("k8s/{text}.yaml:Deployment/shop/{text}:spec.replicas"),
            group: text.to_string(),
            resource: full.then(|| format!("Deployment/{text}")),
            a: side("qa", full),
            b: side("prod", true),
            message: format!("`{text}` differs"),
            reason: full.then(|| text.to_string()),
            covers: if full { n } else { 1 },
        }
    }

    #[test]
    fn the_same_bytes_as_serde_json() {
        // Every byte below 0x80 in several positions, quotes and backslashes in runs,
        // non-ASCII text, long and empty strings.
        let mut texts: Vec<String> = (0u8..0x80)
            .map(|c| {
                let c = char::from(c);
                format!("{c}ab{c}cdefghijk{c}")
            })
            .collect();
        texts.extend(
            [
                "",
                "\"",
                "\\\\\"\"",
                "café ✓ 日本",
                "\u{7f}\u{80}\u{2028}",
                "a\"b\\c\nd\re\tf\u{8}g\u{c}h\u{1}i\u{1f}",
            ]
            .map(String::from),
        );
        texts.push("x".repeat(300) + "\"" + &"y".repeat(17));
        for (i, text) in texts.iter().enumerate() {
            for full in [false, true] {
                for indent in [0, 4] {
                    let f = finding(text, [0, 1, 9, 10, 4_294_967_295][i % 5], full);
                    assert_eq!(ours(&f, indent), serde_form(&f, indent), "{text:?}");
                }
            }
        }
    }
}
