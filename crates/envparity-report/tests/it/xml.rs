//! A strict little XML 1.0 reader for the tests: it accepts only well-formed documents
//! (balanced tags, quoted attributes, known entities, legal characters) and returns the
//! element tree with entities decoded.

#[derive(Debug, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all<'e>(&'e self, name: &str, out: &mut Vec<&'e Element>) {
        if self.name == name {
            out.push(self);
        }
        for child in &self.children {
            child.all(name, out);
        }
    }

    pub fn find_all(&self, name: &str) -> Vec<&Element> {
        let mut out = Vec::new();
        self.all(name, &mut out);
        out
    }
}

fn legal(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn decode(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let semi = rest[amp..].find(';').ok_or("& without ;")? + amp;
        let entity = &rest[amp + 1..semi];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            e if e.starts_with("#x") => {
                char::from_u32(u32::from_str_radix(&e[2..], 16).map_err(|_| e.to_string())?)
                    .ok_or("bad char ref")?
            }
            e if e.starts_with('#') => {
                char::from_u32(e[1..].parse().map_err(|_| e.to_string())?).ok_or("bad char ref")?
            }
            e => return Err(format!("unknown entity &{e};")),
        };
        if !legal(c) {
            return Err(format!("character reference to illegal {c:?}"));
        }
        out.push(c);
        rest = &rest[semi + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

pub fn parse(doc: &str) -> Result<Element, String> {
    if let Some(c) = doc.chars().find(|c| !legal(*c)) {
        return Err(format!("illegal character {c:?}"));
    }
    let mut rest = doc.trim_start();
    if rest.starts_with("<?xml") {
        rest = &rest[rest.find("?>").ok_or("unclosed declaration")? + 2..];
    }
    let mut stack: Vec<Element> = vec![Element::default()];
    loop {
        let lt = match rest.find('<') {
            Some(i) => i,
            None => {
                if !rest.trim().is_empty() {
                    return Err(format!("text after the root: {rest:?}"));
                }
                break;
            }
        };
        let text = &rest[..lt];
        if text.contains('>') && stack.len() > 1 {
            // '>' is legal in text, but our writer always escapes it.
            return Err(format!("raw > in text {text:?}"));
        }
        stack.last_mut().unwrap().text.push_str(&decode(text)?);
        rest = &rest[lt..];
        let gt = rest.find('>').ok_or("unclosed tag")?;
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let element = stack.pop().ok_or("close without open")?;
            if element.name != name.trim() {
                return Err(format!("</{name}> closes <{}>", element.name));
            }
            stack.last_mut().ok_or("unbalanced")?.children.push(element);
            continue;
        }
        let (tag, empty) = match tag.strip_suffix('/') {
            Some(t) => (t, true),
            None => (tag, false),
        };
        let mut parts = tag.splitn(2, char::is_whitespace);
        let name = parts.next().unwrap_or_default().to_string();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(format!("bad element name {name:?}"));
        }
        let mut attrs = Vec::new();
        let mut a = parts.next().unwrap_or_default().trim();
        while !a.is_empty() {
            let eq = a
                .find('=')
                .ok_or(format!("attribute without value in {tag:?}"))?;
            let attr = a[..eq].trim().to_string();
            let after = a[eq + 1..].trim_start();
            let body = after.strip_prefix('"').ok_or("unquoted attribute")?;
            let close = body.find('"').ok_or("unclosed attribute")?;
            let raw = &body[..close];
            if raw.contains('<') {
                return Err(format!("raw < in attribute {raw:?}"));
            }
            if attrs.iter().any(|(n, _)| *n == attr) {
                return Err(format!("duplicate attribute {attr}"));
            }
            attrs.push((attr, decode(raw)?));
            a = body[close + 1..].trim_start();
        }
        let element = Element {
            name,
            attrs,
            ..Element::default()
        };
        if empty {
            stack.last_mut().unwrap().children.push(element);
        } else {
            stack.push(element);
        }
    }
    if stack.len() != 1 {
        return Err(format!("{} unclosed elements", stack.len() - 1));
    }
    let mut root = stack.pop().unwrap();
    if root.children.len() != 1 {
        return Err("not exactly one root element".to_string());
    }
    Ok(root.children.pop().unwrap())
}
