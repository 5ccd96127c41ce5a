//! What users of each format rely on, checked on reports built by hand.

mod support;
mod xml;

mod formats;
mod html;
mod json;
mod junit;
mod markdown;
mod sarif;
mod text;
