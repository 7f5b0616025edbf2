//! Typed reads from a TOML document that keep positions, so every error names the file, line
//! and column (and suggests the nearest key for an unknown one).

use std::path::{Path, PathBuf};

use toml_edit::{Item, Table, Value};

use crate::error::{Error, Pos, Result, nearest};

/// A parsed TOML file with spans.
pub struct Doc<'a> {
    pub path: PathBuf,
    pub text: &'a str,
    doc: toml_edit::Document<&'a str>,
}

impl<'a> Doc<'a> {
    pub fn parse(path: &Path, text: &'a str) -> Result<Doc<'a>> {
        let doc = toml_edit::Document::parse(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            let message = e.message().trim().trim_end_matches('.').to_string();
            Error::invalid(Pos::at(path, text, offset), format!("invalid TOML: {message}"))
                .with_hint("fix the TOML syntax at that position")
        })?;
        Ok(Doc { path: path.to_path_buf(), text, doc })
    }

    pub fn root(&self) -> &Table {
        self.doc.as_table()
    }

    pub fn pos(&self, span: Option<std::ops::Range<usize>>) -> Pos {
        Pos::at(&self.path, self.text, span.map_or(0, |s| s.start))
    }

    pub fn item_pos(&self, item: &Item) -> Pos {
        self.pos(item_span(item))
    }

    pub fn error(&self, item: &Item, message: impl Into<String>) -> Error {
        Error::invalid(self.item_pos(item), message)
    }

    /// Fail on the first key of `table` that is not in `valid`, suggesting the nearest.
    pub fn check_keys(&self, table: &dyn toml_edit::TableLike, valid: &[&str], prefix: &str) -> Result<()> {
        for (key, _) in table.iter() {
            if !valid.contains(&key) {
                let span = table.key(key).and_then(|k| k.span());
                let err = Error::invalid(self.pos(span), format!("unknown key `{prefix}{key}`"));
                return Err(match nearest(key, valid) {
                    Some(n) => err.with_hint(format!("did you mean `{prefix}{n}`?")),
                    None => err.with_hint(format!("valid keys here: {}", valid.join(", "))),
                });
            }
        }
        Ok(())
    }

    pub fn string(&self, item: &Item, name: &str) -> Result<String> {
        item.as_str().map(str::to_string).ok_or_else(|| self.type_error(item, name, "a string"))
    }

    pub fn bool(&self, item: &Item, name: &str) -> Result<bool> {
        item.as_bool().ok_or_else(|| self.type_error(item, name, "true or false"))
    }

    pub fn table<'t>(&self, item: &'t Item, name: &str) -> Result<&'t Table> {
        item.as_table().ok_or_else(|| self.type_error(item, name, "a table"))
    }

    /// Like [`Doc::table`], but also accepts an inline table.
    pub fn table_like<'t>(&self, item: &'t Item, name: &str) -> Result<&'t dyn toml_edit::TableLike> {
        item.as_table_like().ok_or_else(|| self.type_error(item, name, "a table"))
    }

    /// An array of strings, each with its position.
    pub fn strings(&self, item: &Item, name: &str) -> Result<Vec<(String, Pos)>> {
        let array = item.as_array().ok_or_else(|| self.type_error(item, name, "an array of strings"))?;
        array
            .iter()
            .map(|v| match v.as_str() {
                Some(s) => Ok((s.to_string(), self.pos(v.span()))),
                None => Err(Error::invalid(
                    self.pos(v.span()),
                    format!("`{name}` must be an array of strings, found {}", value_kind(v)),
                )),
            })
            .collect()
    }

    pub fn type_error(&self, item: &Item, name: &str, wanted: &str) -> Error {
        Error::invalid(self.item_pos(item), format!("`{name}` must be {wanted}, found {}", item_kind(item)))
    }
}

pub fn item_span(item: &Item) -> Option<std::ops::Range<usize>> {
    match item {
        Item::Value(v) => v.span(),
        Item::Table(t) => t.span(),
        Item::ArrayOfTables(a) => a.span(),
        Item::None => None,
    }
}

fn item_kind(item: &Item) -> &'static str {
    match item {
        Item::Value(v) => value_kind(v),
        Item::Table(_) => "a table",
        Item::ArrayOfTables(_) => "an array of tables",
        Item::None => "nothing",
    }
}

pub fn value_kind(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a date",
        Value::Array(_) => "an array",
        Value::InlineTable(_) => "a table",
    }
}
