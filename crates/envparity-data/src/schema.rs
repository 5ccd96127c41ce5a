//! Builds a database schema as a tree of keyed values, so the config engine compares it.
//!
//! Keys read `schema:public.orders.created_at.type`. Every engine writes the same keys
//! for the same thing, so rules written for one database apply to another:
//!
//! - `server.engine`, `server.version`, `settings.NAME`, `extensions.NAME` (version);
//! - a table (`kind = "table"`): `COLUMN.type`, `COLUMN.nullable`, `COLUMN.default`,
//!   `COLUMN.collation`, `primary_key`, `index(COLS)` = `[unique ][METHOD ]NAME[ where
//!   PREDICATE]`, `foreign_key(COLS)` = `TABLE(COLS) on delete ACTION on update ACTION`,
//!   `check.NAME`;
//! - a view (`kind = "view"`): `definition`; a sequence: `type`, `increment`, `min`,
//!   `max`, `cycle`; an enum: `values`.
//!
//! Indexes and foreign keys are keyed by their columns, not their names: generated names
//! differ between environments that are otherwise the same; the name is a value.

use envparity_core::snapshot::{ConfigFile, Entries, Format, Resource, Value};

pub struct SchemaBuilder {
    file: ConfigFile,
}

impl SchemaBuilder {
    /// `path`: `schema` or `schema/NAME`; `source`: where it was read, without credentials.
    pub fn new(path: &str, source: &str) -> Self {
        SchemaBuilder {
            file: ConfigFile {
                path: path.to_string(),
                source: source.to_string(),
                format: Format::Schema,
                entries: Entries::new(),
                resources: Vec::new(),
            },
        }
    }

    /// A database-wide value: `server.version`, `settings.timezone`, `extensions.pgcrypto`.
    pub fn top(&mut self, path: &str, value: Value) {
        self.file.entries.push(path, 0, value);
    }

    /// Starts (or continues) the object `name` (`public.orders`) of `kind`.
    pub fn object(&mut self, kind: &str, name: &str) -> ObjectBuilder<'_> {
        let at = match self
            .file
            .resources
            .iter()
            .position(|r| r.name == name && r.kind == kind)
        {
            Some(i) => i,
            None => {
                self.file.resources.push(Resource {
                    kind: kind.to_string(),
                    namespace: None,
                    name: name.to_string(),
                    line: 0,
                    entries: Entries::new(),
                });
                self.file.resources.len() - 1
            }
        };
        ObjectBuilder {
            resource: &mut self.file.resources[at],
        }
    }

    pub fn finish(mut self) -> ConfigFile {
        self.file.resources.sort_by(|a, b| a.name.cmp(&b.name));
        self.file
    }
}

pub struct ObjectBuilder<'a> {
    resource: &'a mut Resource,
}

impl ObjectBuilder<'_> {
    pub fn set(&mut self, path: &str, value: Value) -> &mut Self {
        self.resource.entries.push(path, 0, value);
        self
    }

    pub fn text(&mut self, path: &str, value: &str) -> &mut Self {
        self.set(path, Value::String(value.into()))
    }

    pub fn flag(&mut self, path: &str, value: bool) -> &mut Self {
        self.set(path, Value::Bool(value))
    }

    /// A column: type, nullability, default and (when not the database's) collation.
    pub fn column(
        &mut self,
        name: &str,
        data_type: &str,
        nullable: bool,
        default: Option<&str>,
        collation: Option<&str>,
    ) -> &mut Self {
        let key = segment(name);
        self.text(&format!("{key}.type"), &data_type.to_lowercase());
        self.flag(&format!("{key}.nullable"), nullable);
        if let Some(d) = default {
            self.text(&format!("{key}.default"), d);
        }
        if let Some(c) = collation {
            self.text(&format!("{key}.collation"), c);
        }
        self
    }

    /// An index keyed by its columns (or expressions): `index(customer_id,created_at)`,
    /// one value saying all of it (`unique btree orders_email_key where (…)`), so a
    /// missing index is one finding.
    pub fn index(
        &mut self,
        columns: &[String],
        name: &str,
        unique: bool,
        method: Option<&str>,
        predicate: Option<&str>,
    ) -> &mut Self {
        let key = format!("index({})", columns.join(","));
        let mut value = String::new();
        if unique {
            value.push_str("unique ");
        }
        if let Some(m) = method {
            value.push_str(&m.to_lowercase());
            value.push(' ');
        }
        value.push_str(name);
        if let Some(p) = predicate {
            value.push_str(" where ");
            value.push_str(p);
        }
        self.text(&key, &value)
    }

    pub fn foreign_key(
        &mut self,
        columns: &[String],
        references: &str,
        on_delete: &str,
        on_update: &str,
    ) -> &mut Self {
        let key = format!("foreign_key({})", columns.join(","));
        self.text(
            &key,
            &format!(
                "{references} on delete {} on update {}",
                on_delete.to_lowercase(),
                on_update.to_lowercase()
            ),
        )
    }
}

/// A name as a key segment: plain names stay as they are; others are quoted, as config
/// keys quote map keys with dots.
pub fn segment(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '$')
    {
        name.to_string()
    } else {
        format!("[{name:?}]")
    }
}

/// Normalizes SQL text for comparison: whitespace runs become one space, and the text is
/// trimmed, so a view re-indented by a dump tool is not a difference.
pub fn normalize_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut in_quote = false;
    let mut last_space = true;
    for c in sql.trim().trim_end_matches(';').trim().chars() {
        if c == '\'' {
            in_quote = !in_quote;
        }
        if c.is_whitespace() && !in_quote {
            if !last_space {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sql_whitespace_is_not_a_difference() {
        assert_eq!(
            normalize_sql("SELECT  id,\n   name\nFROM t  WHERE x = 'a  b';"),
            "SELECT id, name FROM t WHERE x = 'a  b'"
        );
        assert_eq!(segment("created_at"), "created_at");
        assert_eq!(segment("order date"), "[\"order date\"]");
    }
}
