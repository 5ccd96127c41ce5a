//! Access statements in SQL files, as `pg_dumpall --roles-only`, `pg_dump --schema-only`
//! and MySQL `SHOW GRANTS` print them (and as teams keep them in migrations): roles with
//! their attributes, memberships, GRANT/REVOKE, ownership, default privileges, policies.
//! Other statements are skipped. Passwords are skipped by the reader and never kept.
//!
//! Offline, only what is written is known: an object whose privileges were never changed
//! has no GRANT in a dump, so its defaults are not modelled here (the live collector
//! reads them).

use std::collections::BTreeMap;

use envparity_core::access::{AccessModel, Origin, Permission, Principal, System};

/// One statement: its words (identifiers and keywords, strings as `'…'` placeholders that
/// keep no text), and the line it starts on.
#[derive(Debug)]
struct Statement {
    line: u32,
    tokens: Vec<Token>,
}

#[derive(Clone, Debug, PartialEq)]
enum Token {
    /// A keyword or unquoted identifier, lower-cased.
    Word(String),
    /// A quoted identifier (`"Weird Role"`, `` `shop` ``), case kept.
    Quoted(String),
    /// A string literal; its text is kept only where it is needed (`VALID UNTIL`), never
    /// for passwords.
    Str(String),
    /// Punctuation: `(`, `)`, `,`, `.`, `@`, `*`, `=`.
    Punct(char),
    Number(String),
}

impl Token {
    fn word(&self) -> Option<&str> {
        match self {
            Token::Word(w) => Some(w),
            _ => None,
        }
    }

    fn is(&self, w: &str) -> bool {
        self.word() == Some(w)
    }

    /// An identifier's name as the database sees it.
    fn name(&self) -> Option<String> {
        match self {
            Token::Word(w) | Token::Quoted(w) => Some(w.clone()),
            Token::Str(s) => Some(s.clone()),
            _ => None,
        }
    }
}

/// Splits SQL into statements of tokens: `;` ends a statement outside quotes, comments and
/// dollar-quoted bodies; psql meta-commands (`\connect`) and `COPY … FROM stdin` data are
/// skipped.
fn statements(text: &str) -> Vec<Statement> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut tokens = Vec::new();
    let mut line = 1u32;
    let mut start_line = 1u32;
    let mut i = 0;
    let mut at_line_start = true;
    while i < b.len() {
        let c = b[i];
        if c == b'\n' {
            line += 1;
            i += 1;
            at_line_start = true;
            continue;
        }
        if at_line_start && c == b'\\' && tokens.is_empty() {
            // A psql meta-command: the rest of the line.
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        at_line_start = false;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if tokens.is_empty() {
            start_line = line;
        }
        match c {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'#' => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                    if b[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 2;
            }
            b';' => {
                i += 1;
                let copy_from_stdin = tokens.first().is_some_and(|t: &Token| t.is("copy"))
                    && tokens.iter().any(|t| t.is("stdin"));
                if !tokens.is_empty() {
                    out.push(Statement {
                        line: start_line,
                        tokens: std::mem::take(&mut tokens),
                    });
                }
                if copy_from_stdin {
                    // Data lines up to `\.`.
                    while i < b.len() {
                        let end = text[i..].find('\n').map_or(b.len(), |e| i + e);
                        let row = text[i..end].trim();
                        if end < b.len() {
                            line += 1;
                        }
                        i = end + 1;
                        if row == "\\." {
                            break;
                        }
                    }
                    // The loop consumed the newline of the `\.` line itself.
                    at_line_start = true;
                }
            }
            b'\'' => {
                let (s, next, lines) = quoted(b, i, b'\'');
                line += lines;
                tokens.push(Token::Str(s));
                i = next;
            }
            b'"' | b'`' => {
                let (s, next, lines) = quoted(b, i, c);
                line += lines;
                tokens.push(Token::Quoted(s));
                i = next;
            }
            b'$' => {
                // `$tag$ … $tag$`: a body, skipped whole.
                let tag_end = b[i + 1..]
                    .iter()
                    .position(|x| !(x.is_ascii_alphanumeric() || *x == b'_'))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(e) if b[e] == b'$' => {
                        let tag = &text[i..=e];
                        let body_start = e + 1;
                        let close = text[body_start..]
                            .find(tag)
                            .map_or(b.len(), |p| body_start + p + tag.len());
                        line += text[i..close.min(b.len())].matches('\n').count() as u32;
                        tokens.push(Token::Str(String::new()));
                        i = close;
                    }
                    _ => {
                        i += 1;
                    }
                }
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$')
                {
                    i += 1;
                }
                tokens.push(Token::Word(text[s..i].to_ascii_lowercase()));
            }
            c if c.is_ascii_digit() => {
                let s = i;
                while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                    i += 1;
                }
                tokens.push(Token::Number(text[s..i].to_string()));
            }
            c => {
                if c.is_ascii() {
                    tokens.push(Token::Punct(c as char));
                }
                i += 1;
                // Skip the rest of a multi-byte character.
                while i < b.len() && !text.is_char_boundary(i) {
                    i += 1;
                }
            }
        }
    }
    if !tokens.is_empty() {
        out.push(Statement {
            line: start_line,
            tokens,
        });
    }
    out
}

/// A quoted run from `b[i]` (the quote): its text (doubled quotes and `\'` unescaped), the
/// index after it, and the newlines it held.
fn quoted(b: &[u8], i: usize, quote: u8) -> (String, usize, u32) {
    let mut out = Vec::new();
    let mut j = i + 1;
    let mut lines = 0;
    while j < b.len() {
        if b[j] == b'\\' && quote == b'\'' && j + 1 < b.len() {
            out.push(b[j + 1]);
            j += 2;
            continue;
        }
        if b[j] == quote {
            if b.get(j + 1) == Some(&quote) {
                out.push(quote);
                j += 2;
                continue;
            }
            return (String::from_utf8_lossy(&out).into_owned(), j + 1, lines);
        }
        if b[j] == b'\n' {
            lines += 1;
        }
        out.push(b[j]);
        j += 1;
    }
    (String::from_utf8_lossy(&out).into_owned(), j, lines)
}

/// Which database a file is written for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Mysql,
}

/// Guesses the dialect: MySQL dumps quote with backticks and name accounts `'u'@'h'`.
pub fn detect(text: &str) -> Dialect {
    if text.contains("`@`") || text.contains("'@'") || text.contains("IDENTIFIED BY") {
        Dialect::Mysql
    } else {
        Dialect::Postgres
    }
}

struct Reader<'a> {
    shown: &'a str,
    dialect: Dialect,
    system: System,
    principals: BTreeMap<String, Principal>,
    permissions: Vec<Permission>,
}

/// Reads the access statements of one SQL file.
pub fn read(text: &str, shown: &str) -> Result<AccessModel, String> {
    let dialect = detect(text);
    let mut r = Reader {
        shown,
        dialect,
        system: match dialect {
            Dialect::Postgres => System::Postgres,
            Dialect::Mysql => System::Mysql,
        },
        principals: BTreeMap::new(),
        permissions: Vec::new(),
    };
    for s in statements(text) {
        r.statement(&s)
            .map_err(|why| format!("{shown}:{}: {why}", s.line))?;
    }
    Ok(AccessModel {
        principals: r.principals.into_values().collect(),
        permissions: r.permissions,
        ..AccessModel::default()
    })
}

/// Words shown in capitals in `via`, as dumps print them.
const KEYWORDS: &[&str] = &[
    "grant",
    "revoke",
    "on",
    "to",
    "from",
    "table",
    "tables",
    "schema",
    "sequence",
    "sequences",
    "database",
    "function",
    "functions",
    "procedure",
    "routine",
    "with",
    "option",
    "select",
    "insert",
    "update",
    "delete",
    "all",
    "privileges",
    "usage",
    "create",
    "connect",
    "temporary",
    "temp",
    "execute",
    "references",
    "trigger",
    "truncate",
    "in",
    "alter",
    "default",
    "for",
    "role",
    "user",
    "granted",
    "by",
    "public",
    "admin",
    "inherit",
    "true",
    "false",
    "cascade",
];

/// The statement as one line, for `via`: words and punctuation, strings as `'…'`.
fn one_line(tokens: &[Token]) -> String {
    let mut out = String::new();
    for (i, t) in tokens.iter().enumerate() {
        // `public.orders` is a schema; `TO public` the grantee everyone.
        let qualifier = tokens.get(i + 1) == Some(&Token::Punct('.'));
        let piece = match t {
            Token::Word(w) if KEYWORDS.contains(&w.as_str()) && !qualifier => w.to_uppercase(),
            Token::Word(w) => w.clone(),
            Token::Quoted(q) => format!("\"{q}\""),
            Token::Str(_) => "'…'".to_string(),
            Token::Punct(c) => c.to_string(),
            Token::Number(n) => n.clone(),
        };
        let glue =
            matches!(t, Token::Punct('.' | ',' | ')' | '@')) || out.ends_with(['.', '(', '@']);
        if !out.is_empty() && !glue {
            out.push(' ');
        }
        out.push_str(&piece);
    }
    if out.chars().count() > 160 {
        out = out.chars().take(159).collect::<String>() + "…";
    }
    out
}

impl Reader<'_> {
    fn origin(&self, line: u32) -> Origin {
        Origin {
            file: self.shown.to_string(),
            line: Some(line),
        }
    }

    fn principal(&mut self, name: &str, kind: &str, line: u32) -> &mut Principal {
        let origin = self.origin(line);
        let system = self.system;
        self.principals
            .entry(name.to_string())
            .or_insert_with(|| Principal {
                system,
                name: name.to_string(),
                kind: kind.to_string(),
                attributes: BTreeMap::new(),
                member_of: Vec::new(),
                origin,
            })
    }

    fn statement(&mut self, s: &Statement) -> Result<(), String> {
        let t = &s.tokens;
        let first = t.first().and_then(Token::word).unwrap_or("");
        let second = t.get(1).and_then(Token::word).unwrap_or("");
        match (first, second) {
            ("create", "role" | "user") | ("alter", "role" | "user") => self.role(s),
            ("grant", _) => self.grant(s, false),
            ("revoke", _) => self.grant(s, true),
            ("alter", "default") => self.default_privileges(s),
            ("alter", _) if t.iter().any(|x| x.is("owner")) => self.owner(s),
            ("create", "policy") => self.policy(s),
            _ => Ok(()),
        }
    }

    /// An account or role name at `t[i]`: `name`, `"Name"`, or MySQL `'u'@'h'`.
    fn account(&self, t: &[Token], i: usize) -> Option<(String, usize)> {
        let name = t.get(i)?.name()?;
        if self.dialect == Dialect::Mysql {
            if t.get(i + 1) == Some(&Token::Punct('@')) {
                let host = t.get(i + 2)?.name()?;
                return Some((format!("'{name}'@'{host}'"), i + 3));
            }
            if matches!(t.get(i), Some(Token::Str(_) | Token::Quoted(_))) {
                return Some((format!("'{name}'@'%'"), i + 1));
            }
        }
        Some((name, i + 1))
    }

    fn role(&mut self, s: &Statement) -> Result<(), String> {
        let t = &s.tokens;
        let creating = t[0].is("create");
        let user = t[1].is("user");
        let (name, mut i) = self
            .account(t, 2)
            .ok_or("CREATE/ALTER ROLE without a role name")?;
        if !creating
            && t.get(i)
                .is_some_and(|x| x.is("set") || x.is("reset") || x.is("rename"))
        {
            return Ok(());
        }
        let kind = match (self.dialect, user) {
            (Dialect::Mysql, true) => "account",
            (Dialect::Mysql, false) => "role",
            _ => "role",
        };
        let line = s.line;
        let mut attributes: Vec<(String, String)> = Vec::new();
        let mut member_of: Vec<String> = Vec::new();
        if creating && user && self.dialect == Dialect::Postgres {
            attributes.push(("login".into(), "true".into()));
        }
        if self.dialect == Dialect::Mysql {
            let host = name
                .rsplit("@'")
                .next()
                .unwrap_or("%")
                .trim_end_matches('\'');
            attributes.push(("host".into(), host.to_string()));
        }
        while i < t.len() {
            let w = t[i].word().unwrap_or("");
            let flag = |on: bool| if on { "true" } else { "false" }.to_string();
            match w {
                "superuser" | "nosuperuser" => {
                    attributes.push(("superuser".into(), flag(w == "superuser")))
                }
                "createdb" | "nocreatedb" => {
                    attributes.push(("createdb".into(), flag(w == "createdb")))
                }
                "createrole" | "nocreaterole" => {
                    attributes.push(("createrole".into(), flag(w == "createrole")))
                }
                "inherit" | "noinherit" => {
                    attributes.push(("inherit".into(), flag(w == "inherit")))
                }
                "login" | "nologin" => attributes.push(("login".into(), flag(w == "login"))),
                "replication" | "noreplication" => {
                    attributes.push(("replication".into(), flag(w == "replication")))
                }
                "bypassrls" | "nobypassrls" => {
                    attributes.push(("bypassrls".into(), flag(w == "bypassrls")))
                }
                "password" | "identified" => {
                    // Skip the credential: `PASSWORD '…'`, `IDENTIFIED BY '…'`,
                    // `IDENTIFIED WITH plugin AS '…'`.
                    i += 1;
                    while i < t.len() && !matches!(t[i], Token::Str(_)) {
                        if t[i].is("valid")
                            || t[i].is("require")
                            || t[i].is("with") && i > 0 && matches!(t[i - 1], Token::Str(_))
                        {
                            break;
                        }
                        i += 1;
                    }
                }
                "connection" if t.get(i + 1).is_some_and(|x| x.is("limit")) => {
                    if let Some(Token::Number(n)) = t.get(i + 2) {
                        attributes.push(("connection_limit".into(), n.clone()));
                    } else if t.get(i + 2) == Some(&Token::Punct('-')) {
                        attributes.push(("connection_limit".into(), "-1".into()));
                    }
                    i += 2;
                }
                "valid" if t.get(i + 1).is_some_and(|x| x.is("until")) => {
                    if let Some(Token::Str(v)) = t.get(i + 2) {
                        let expires = if v == "infinity" {
                            "never".to_string()
                        } else {
                            v.chars().take(10).collect()
                        };
                        attributes.push(("password_expires".into(), expires));
                    }
                    i += 2;
                }
                "in" if t.get(i + 1).is_some_and(|x| x.is("role") || x.is("group")) => {
                    i += 2;
                    while let Some(n) = t.get(i).and_then(Token::name) {
                        member_of.push(n);
                        if t.get(i + 1) == Some(&Token::Punct(',')) {
                            i += 2;
                        } else {
                            break;
                        }
                    }
                }
                "require" => {
                    let what = t.get(i + 1).and_then(Token::word).unwrap_or("");
                    attributes.push(("require_ssl".into(), flag(what != "none")));
                }
                "max_user_connections" => {
                    if let Some(Token::Number(n)) = t.get(i + 1) {
                        attributes.push(("max_user_connections".into(), n.clone()));
                    }
                }
                "account" if t.get(i + 1).is_some_and(|x| x.is("lock") || x.is("unlock")) => {
                    attributes.push(("locked".into(), flag(t[i + 1].is("lock"))));
                }
                _ => {}
            }
            i += 1;
        }
        let p = self.principal(&name, kind, line);
        for (k, v) in attributes {
            p.attributes.insert(k, v);
        }
        for m in member_of {
            if !p.member_of.contains(&m) {
                p.member_of.push(m);
            }
        }
        Ok(())
    }

    /// GRANT/REVOKE: of privileges on objects, or of roles to members.
    fn grant(&mut self, s: &Statement, revoke: bool) -> Result<(), String> {
        let t = &s.tokens;
        let to = t
            .iter()
            .position(|x| if revoke { x.is("from") } else { x.is("to") })
            .ok_or(if revoke {
                "REVOKE without FROM"
            } else {
                "GRANT without TO"
            })?;
        let on = t[..to].iter().position(|x| x.is("on"));
        let mut i = 1;
        if revoke
            && t.get(1).is_some_and(|x| x.is("grant"))
            && t.get(2).is_some_and(|x| x.is("option"))
        {
            i = 4; // REVOKE GRANT OPTION FOR …
        }
        // Grantees up to WITH / GRANTED / ; .
        let mut grantees = Vec::new();
        let mut j = to + 1;
        while j < t.len() {
            if t[j].is("with") || t[j].is("granted") || t[j].is("cascade") || t[j].is("restrict") {
                break;
            }
            if t[j].is("group") {
                j += 1;
                continue;
            }
            let (name, next) = match (&t[j], self.dialect) {
                (Token::Word(w), _) if w == "public" => ("PUBLIC".to_string(), j + 1),
                _ => self.account(t, j).ok_or("a grantee is not a name")?,
            };
            grantees.push(name);
            j = next;
            if t.get(j) == Some(&Token::Punct(',')) {
                j += 1;
            }
        }
        if grantees.is_empty() {
            return Err("no grantee".into());
        }
        let grant_option =
            t[j..].iter().any(|x| x.is("grant")) && t[j..].iter().any(|x| x.is("option"));
        let no_inherit = t[j..]
            .windows(2)
            .any(|w| w[0].is("inherit") && (w[1].is("false") || w[1].is("no")));
        let Some(on) = on else {
            // Roles to members.
            let mut roles: Vec<String> = Vec::new();
            let mut k = i;
            while k < to {
                if matches!(t[k], Token::Punct(_)) {
                    k += 1;
                    continue;
                }
                let (role, next) = self.account(t, k).ok_or("a role is not a name")?;
                roles.push(role);
                k = next;
            }
            if roles.is_empty() {
                return Err("GRANT of no role".into());
            }
            for member in grantees {
                let kind = if self.dialect == Dialect::Mysql {
                    "account"
                } else {
                    "role"
                };
                let p = self.principal(&member, kind, s.line);
                for role in &roles {
                    let entry = if no_inherit {
                        format!("{role} (noinherit)")
                    } else {
                        role.clone()
                    };
                    if revoke {
                        p.member_of
                            .retain(|m| m.trim_end_matches(" (noinherit)") != role);
                    } else if !p.member_of.contains(&entry) {
                        p.member_of.push(entry);
                    }
                }
            }
            return Ok(());
        };
        // Privileges, with column lists: `SELECT (a, b), UPDATE`.
        let mut privileges: Vec<(String, Vec<String>)> = Vec::new();
        let mut k = i;
        while k < on {
            match &t[k] {
                Token::Word(w) if w == "privileges" => {}
                Token::Word(w) => {
                    let mut name = w.to_uppercase();
                    // Two-word privileges: `CREATE VIEW`, `SHOW VIEW`, `LOCK TABLES`, `GRANT OPTION`.
                    while let Some(Token::Word(next)) = t.get(k + 1) {
                        if k + 1 >= on || next == "privileges" {
                            break;
                        }
                        name.push(' ');
                        name.push_str(&next.to_uppercase());
                        k += 1;
                    }
                    privileges.push((name, Vec::new()));
                }
                Token::Punct('(') => {
                    let close = t[k..on]
                        .iter()
                        .position(|x| *x == Token::Punct(')'))
                        .map_or(on, |p| k + p);
                    let columns: Vec<String> =
                        t[k + 1..close].iter().filter_map(Token::name).collect();
                    if let Some(last) = privileges.last_mut() {
                        last.1 = columns;
                    }
                    k = close;
                }
                _ => {}
            }
            k += 1;
        }
        if privileges.is_empty() {
            return Err("GRANT/REVOKE names no privilege".into());
        }
        let objects = self.objects(&t[on + 1..to])?;
        let via = one_line(t);
        for grantee in &grantees {
            for (privilege, columns) in &privileges {
                let action = if privilege == "ALL" || privilege == "ALL PRIVILEGES" {
                    "ALL".to_string()
                } else {
                    privilege.clone()
                };
                if action == "USAGE" && self.dialect == Dialect::Mysql {
                    continue; // MySQL's USAGE means "no privileges".
                }
                for object in &objects {
                    let resources: Vec<String> = if columns.is_empty() {
                        vec![object.clone()]
                    } else {
                        let base = object.trim_start_matches("table ");
                        columns
                            .iter()
                            .map(|c| match self.dialect {
                                Dialect::Postgres => format!("column {base}.{c}"),
                                Dialect::Mysql => format!("{base}.{c}"),
                            })
                            .collect()
                    };
                    for resource in resources {
                        if revoke {
                            self.permissions.retain(|p| {
                                !(p.principal == *grantee
                                    && p.resource == resource
                                    && (action == "ALL" || p.action == action))
                            });
                            continue;
                        }
                        if self.dialect == Dialect::Mysql
                            && resource == "*.*"
                            && (action == "SUPER" || action == "ALL")
                        {
                            let line = s.line;
                            self.principal(grantee, "account", line)
                                .attributes
                                .insert("super".into(), "true".into());
                        }
                        self.permissions.push(Permission {
                            system: self.system,
                            principal: grantee.clone(),
                            action: action.clone(),
                            resource,
                            via: via.clone(),
                            grant_option,
                            origin: self.origin(s.line),
                        });
                    }
                }
            }
        }
        Ok(())
    }

    /// The objects after ON: `TABLE a, b`, `SCHEMA s`, `ALL TABLES IN SCHEMA s`, `shop.*`.
    fn objects(&self, t: &[Token]) -> Result<Vec<String>, String> {
        if self.dialect == Dialect::Mysql {
            let text: String = t
                .iter()
                .filter(|x| !x.is("table") && !x.is("function") && !x.is("procedure"))
                .map(|x| match x {
                    Token::Punct(c) => c.to_string(),
                    other => other.name().unwrap_or_default(),
                })
                .collect();
            if text.is_empty() {
                return Err("GRANT … ON names no object".into());
            }
            return Ok(vec![if text.contains('.') {
                text
            } else {
                format!("{text}.*")
            }]);
        }
        let mut kind = "table";
        let mut i = 0;
        if t.first().is_some_and(|x| x.is("all")) {
            // ALL TABLES|SEQUENCES|FUNCTIONS IN SCHEMA a, b
            let what = t
                .get(1)
                .and_then(Token::word)
                .unwrap_or("tables")
                .to_string();
            let schemas: Vec<String> = t[2..]
                .iter()
                .filter(|x| !x.is("in") && !x.is("schema"))
                .filter_map(Token::name)
                .collect();
            return Ok(schemas
                .into_iter()
                .map(|s| format!("all {what} in schema {s}"))
                .collect());
        }
        if let Some(w) = t.first().and_then(Token::word) {
            match w {
                "table" | "sequence" | "schema" | "database" | "function" | "procedure"
                | "routine" | "type" | "domain" | "language" | "tablespace" => {
                    kind = match w {
                        "procedure" | "routine" => "function",
                        other => other,
                    };
                    i = 1;
                }
                "foreign" | "large" => return Ok(Vec::new()),
                _ => {}
            }
        }
        let mut out = Vec::new();
        let mut current = String::new();
        let mut depth = 0;
        for x in &t[i..] {
            match x {
                Token::Punct(',') if depth == 0 => {
                    out.push(std::mem::take(&mut current));
                }
                Token::Punct('(') => {
                    depth += 1;
                    current.push('(');
                }
                Token::Punct(')') => {
                    depth -= 1;
                    current.push(')');
                }
                Token::Punct(',') => current.push_str(", "),
                Token::Punct(c) => current.push(*c),
                other => {
                    if !current.is_empty() && !current.ends_with(['.', '(', ' ']) {
                        current.push(' ');
                    }
                    current.push_str(&other.name().unwrap_or_default());
                }
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
        if out.is_empty() {
            return Err("GRANT … ON names no object".into());
        }
        Ok(out
            .into_iter()
            .map(|name| {
                let qualified = if matches!(kind, "table" | "sequence" | "function")
                    && !name.split('(').next().unwrap_or("").contains('.')
                {
                    format!("public.{name}")
                } else {
                    name
                };
                format!("{kind} {qualified}")
            })
            .collect())
    }

    /// `ALTER TABLE s.t OWNER TO r` and the like: owners hold every privilege.
    fn owner(&mut self, s: &Statement) -> Result<(), String> {
        let t = &s.tokens;
        let Some(owner_at) = t.iter().position(|x| x.is("owner")) else {
            return Ok(());
        };
        if !t.get(owner_at + 1).is_some_and(|x| x.is("to")) {
            return Ok(());
        }
        let owner = t
            .get(owner_at + 2)
            .and_then(Token::name)
            .ok_or("OWNER TO without a role")?;
        let kind = t.get(1).and_then(Token::word).unwrap_or("table");
        let kind = match kind {
            "materialized" => "materialized view",
            "foreign" => return Ok(()),
            other => other,
        };
        let skip = if kind == "materialized view" { 3 } else { 2 };
        let name = one_name(&t[skip.min(owner_at)..owner_at]);
        let qualified =
            if matches!(kind, "table" | "sequence" | "view" | "function") && !name.contains('.') {
                format!("public.{name}")
            } else {
                name
            };
        self.permissions.push(Permission {
            system: self.system,
            principal: owner,
            action: "ALL".into(),
            resource: format!("{kind} {qualified}"),
            via: "owner".into(),
            grant_option: true,
            origin: self.origin(s.line),
        });
        Ok(())
    }

    /// `ALTER DEFAULT PRIVILEGES [FOR ROLE r] [IN SCHEMA s] GRANT … ON TABLES TO …`.
    fn default_privileges(&mut self, s: &Statement) -> Result<(), String> {
        let t = &s.tokens;
        let creator = t
            .windows(3)
            .position(|w| w[0].is("for") && (w[1].is("role") || w[1].is("user")))
            .and_then(|p| t[p + 2].name());
        let schema = t
            .windows(3)
            .position(|w| w[0].is("in") && w[1].is("schema"))
            .and_then(|p| t[p + 2].name());
        let Some(g) = t.iter().position(|x| x.is("grant") || x.is("revoke")) else {
            return Err("ALTER DEFAULT PRIVILEGES without GRANT or REVOKE".into());
        };
        let inner = Statement {
            line: s.line,
            tokens: t[g..].to_vec(),
        };
        let before = self.permissions.len();
        self.grant(&inner, t[g].is("revoke"))?;
        let scope = match (&schema, &creator) {
            (Some(s), Some(c)) => format!(" in schema {s} (created by {c})"),
            (Some(s), None) => format!(" in schema {s}"),
            (None, Some(c)) => format!(" (created by {c})"),
            (None, None) => String::new(),
        };
        let via = one_line(t);
        for p in &mut self.permissions[before..] {
            // `table public.tables` → `future tables in schema s (created by r)`.
            let what = p
                .resource
                .rsplit(['.', ' '])
                .next()
                .unwrap_or("objects")
                .to_string();
            p.resource = format!("future {what}{scope}");
            p.via = via.clone();
        }
        Ok(())
    }

    /// `CREATE POLICY name ON t [AS …] [FOR cmd] [TO roles] [USING (…)] [WITH CHECK (…)]`.
    fn policy(&mut self, s: &Statement) -> Result<(), String> {
        let t = &s.tokens;
        let name = t
            .get(2)
            .and_then(Token::name)
            .ok_or("CREATE POLICY without a name")?;
        let on = t
            .iter()
            .position(|x| x.is("on"))
            .ok_or("CREATE POLICY without ON")?;
        let end = t[on + 1..]
            .iter()
            .position(|x| x.is("as") || x.is("for") || x.is("to") || x.is("using") || x.is("with"))
            .map_or(t.len(), |p| on + 1 + p);
        let table = one_name(&t[on + 1..end]);
        let table = if table.contains('.') {
            table
        } else {
            format!("public.{table}")
        };
        let command = t
            .iter()
            .position(|x| x.is("for"))
            .and_then(|p| t.get(p + 1))
            .and_then(Token::word)
            .map_or("ALL".to_string(), str::to_uppercase);
        let mut roles = Vec::new();
        if let Some(p) = t.iter().position(|x| x.is("to")) {
            let mut i = p + 1;
            while let Some(x) = t.get(i) {
                if x.is("using") || x.is("with") {
                    break;
                }
                if x.is("public") {
                    roles.push("PUBLIC".to_string());
                } else if let Some(n) = x.name().filter(|_| !matches!(x, Token::Punct(_))) {
                    roles.push(n);
                }
                i += 1;
            }
        }
        if roles.is_empty() {
            roles.push("PUBLIC".into());
        }
        let using = t
            .iter()
            .position(|x| x.is("using"))
            .map(|p| one_line(&t[p + 1..]).chars().take(120).collect::<String>())
            .unwrap_or_default();
        for role in roles {
            self.permissions.push(Permission {
                system: self.system,
                principal: role,
                action: command.clone(),
                resource: format!("rows of table {table} where {using}"),
                via: format!("CREATE POLICY {name} ON {table}"),
                grant_option: false,
                origin: self.origin(s.line),
            });
        }
        Ok(())
    }
}

/// A possibly qualified name from tokens: `public . orders` → `public.orders`.
fn one_name(t: &[Token]) -> String {
    let mut out = String::new();
    for x in t {
        match x {
            Token::Punct(c) => out.push(*c),
            other => out.push_str(&other.name().unwrap_or_default()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROLES: &str = r#"--
-- PostgreSQL database cluster dump
--

\restrict abc
SET default_transaction_read_only = off;

--
-- Roles
--

CREATE ROLE app_prod;
ALTER ROLE app_prod WITH SUPERUSER INHERIT NOCREATEROLE NOCREATEDB LOGIN NOREPLICATION NOBYPASSRLS PASSWORD 'SCRAM-SHA-256$4096:CANARYSECRET';
CREATE ROLE "Reporting";
ALTER ROLE "Reporting" WITH NOSUPERUSER INHERIT NOLOGIN CONNECTION LIMIT 5 VALID UNTIL '2027-01-01 00:00:00+00';
CREATE USER analyst PASSWORD 'CANARYSECRET' IN ROLE "Reporting";
GRANT "Reporting" TO app_prod GRANTED BY postgres;
"#;

    const SCHEMA: &str = r#"
SET statement_timeout = 0;
CREATE FUNCTION public.f() RETURNS trigger
    LANGUAGE plpgsql
    AS $_$ BEGIN GRANT ALL ON t TO x; RETURN NEW; END; $_$;
CREATE TABLE public.orders (id bigint NOT NULL, email text);
ALTER TABLE public.orders OWNER TO app_prod;
COPY public.orders (id, email) FROM stdin;
1	GRANT SELECT ON x TO y;
\.
REVOKE USAGE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO PUBLIC;
GRANT SELECT ON TABLE public.orders TO PUBLIC;
GRANT SELECT (id, email), UPDATE (email) ON TABLE public.orders TO "Reporting" WITH GRANT OPTION;
ALTER DEFAULT PRIVILEGES FOR ROLE app_prod IN SCHEMA public GRANT SELECT ON TABLES TO "Reporting";
CREATE POLICY own_rows ON public.orders FOR SELECT TO analyst USING ((email = CURRENT_USER));
GRANT INSERT ON public.orders TO analyst;
REVOKE INSERT ON public.orders FROM analyst;
"#;

    #[test]
    fn pg_dumpall_and_pg_dump_statements() {
        let roles = read(ROLES, "roles.sql").unwrap();
        let app = roles
            .principals
            .iter()
            .find(|p| p.name == "app_prod")
            .unwrap();
        assert_eq!(app.attributes["superuser"], "true");
        assert_eq!(app.attributes["login"], "true");
        assert_eq!(app.member_of, ["Reporting"]);
        assert_eq!(app.origin.line, Some(12));
        let reporting = roles
            .principals
            .iter()
            .find(|p| p.name == "Reporting")
            .unwrap();
        assert_eq!(reporting.attributes["connection_limit"], "5");
        assert_eq!(reporting.attributes["password_expires"], "2027-01-01");
        let analyst = roles
            .principals
            .iter()
            .find(|p| p.name == "analyst")
            .unwrap();
        assert_eq!(analyst.attributes["login"], "true");
        assert_eq!(analyst.member_of, ["Reporting"]);
        let json = serde_json::to_string(&roles).unwrap();
        assert!(!json.contains("CANARYSECRET"), "{json}");

        let m = read(SCHEMA, "schema.sql").unwrap();
        let perms: Vec<(&str, &str, &str)> = m
            .permissions
            .iter()
            .map(|p| (p.principal.as_str(), p.action.as_str(), p.resource.as_str()))
            .collect();
        assert!(perms.contains(&("app_prod", "ALL", "table public.orders")));
        assert!(perms.contains(&("PUBLIC", "USAGE", "schema public")));
        assert!(perms.contains(&("PUBLIC", "SELECT", "table public.orders")));
        assert!(perms.contains(&("Reporting", "SELECT", "column public.orders.email")));
        assert!(perms.contains(&("Reporting", "UPDATE", "column public.orders.email")));
        assert!(perms.contains(&(
            "Reporting",
            "SELECT",
            "future tables in schema public (created by app_prod)"
        )));
        assert!(perms.iter().any(|p| p.0 == "analyst"
            && p.1 == "SELECT"
            && p.2.starts_with("rows of table public.orders where")));
        assert!(!perms.iter().any(|p| p.1 == "INSERT"), "revoked: {perms:?}");
        assert!(
            !perms.iter().any(|p| p.0 == "x" || p.0 == "y"),
            "bodies and data are not statements: {perms:?}"
        );
        let public = m
            .permissions
            .iter()
            .find(|p| p.principal == "PUBLIC" && p.action == "SELECT")
            .unwrap();
        assert_eq!(public.via, "GRANT SELECT ON TABLE public.orders TO PUBLIC");
        assert_eq!(public.origin.line, Some(13));
    }

    #[test]
    fn mysql_show_grants() {
        let text = "CREATE USER 'app'@'%' IDENTIFIED BY 'CANARYSECRET' REQUIRE SSL WITH MAX_USER_CONNECTIONS 20;\n\
GRANT USAGE ON *.* TO `app`@`%`;\n\
GRANT ALL PRIVILEGES ON *.* TO `admin`@`%` WITH GRANT OPTION;\n\
GRANT SELECT, INSERT ON `shop`.* TO `app`@`%`;\n\
GRANT SELECT (`email`) ON `shop`.`users` TO `app`@`%`;\n\
CREATE ROLE 'reader';\nGRANT 'reader' TO 'app'@'%';\n";
        assert_eq!(detect(text), Dialect::Mysql);
        let m = read(text, "grants.sql").unwrap();
        let app = m.principals.iter().find(|p| p.name == "'app'@'%'").unwrap();
        assert_eq!(app.attributes["require_ssl"], "true");
        assert_eq!(app.attributes["max_user_connections"], "20");
        assert_eq!(app.member_of, ["'reader'@'%'"]);
        let admin = m
            .principals
            .iter()
            .find(|p| p.name == "'admin'@'%'")
            .unwrap();
        assert_eq!(admin.attributes["super"], "true");
        let perms: Vec<(&str, &str, &str)> = m
            .permissions
            .iter()
            .map(|p| (p.principal.as_str(), p.action.as_str(), p.resource.as_str()))
            .collect();
        assert!(perms.contains(&("'admin'@'%'", "ALL", "*.*")));
        assert!(perms.contains(&("'app'@'%'", "INSERT", "shop.*")));
        assert!(perms.contains(&("'app'@'%'", "SELECT", "shop.users.email")));
        assert!(!perms.iter().any(|p| p.1 == "USAGE"));
        assert!(!serde_json::to_string(&m).unwrap().contains("CANARYSECRET"));
    }

    #[test]
    fn bad_statements_name_file_and_line_never_a_literal() {
        let err = read("SELECT 1;\n\nGRANT SELECT ON TABLE t;\n", "x.sql").unwrap_err();
        assert_eq!(err, "x.sql:3: GRANT without TO");
        let err = read("GRANT SELECT ON TO 'CANARYSECRET';", "y.sql").unwrap_err();
        assert!(
            err.starts_with("y.sql:1:") && !err.contains("CANARYSECRET"),
            "{err}"
        );
        // Garbage and cut statements never panic.
        for text in [
            "GRANT",
            "GRANT (",
            "ALTER ROLE",
            "CREATE POLICY",
            "ALTER DEFAULT PRIVILEGES GRANT",
            "'unclosed",
            "$a$ body",
            "GRANT x ON",
            "/* open",
            "REVOKE a ON b FROM",
            "ALTER TABLE OWNER TO",
            "é;ü GRANT ö TO ä;",
        ] {
            let _ = read(text, "z.sql");
        }
    }
}
