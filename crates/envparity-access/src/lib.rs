//! The access facet's collectors that read files: Kubernetes RBAC manifests, the SQL that
//! `pg_dumpall --roles-only`, `pg_dump --schema-only` and `SHOW GRANTS` print, and
//! application switches in the configuration. Live database catalogs are read by
//! `envparity-data`; the model and its comparison live in `envparity-core::access`.

pub mod dump;
pub mod rbac;
pub mod rego;
pub mod switches;
