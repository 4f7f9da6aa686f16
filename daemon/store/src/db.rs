//! The one seam between the store's logic and its two databases: a statement runner over
//! SQLite (rusqlite) or PostgreSQL (the sync `postgres` client), with values of SQLite's five
//! kinds, so that every query the two share is written once.
//!
//! Statements are written with SQLite's numbered parameters (`?1`); PostgreSQL gets them as
//! `$1`. Where the two dialects differ (JSON access, the full-text index, an array of words),
//! [`Dialect`] says which spelling to use; everything else is SQL both accept (`ON CONFLICT`,
//! `RETURNING`, `CAST`). PostgreSQL types its parameters from the statement, so a [`Value`] is
//! encoded as the type the server asks for (an integer as `INT4` or `INT8`), and read back
//! whatever integer, float, text or bytes type the column has.

use std::collections::HashMap;
use std::error::Error;

use bytes::BytesMut;
use postgres::types::{FromSql, IsNull, ToSql, Type};

use crate::model::{FileState, StageOutcome};

/// Which database a statement runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// The text at `path` (object keys, outermost first) of the JSON in text column `column`, or
    /// NULL.
    pub(crate) fn json_text(self, column: &str, path: &[&str]) -> String {
        match self {
            Dialect::Sqlite => {
                let keys: Vec<String> = path.iter().map(|k| format!(".\"{k}\"")).collect();
                format!("json_extract({column}, '${}')", keys.concat())
            }
            Dialect::Postgres => {
                let keys: Vec<String> = path.iter().map(|k| format!("\"{k}\"")).collect();
                format!("(CAST({column} AS json) #>> '{{{}}}')", keys.join(","))
            }
        }
    }

    /// The database's clock, in whole milliseconds since the Unix epoch: leases are judged by
    /// one clock (the server's), whatever the clocks of the machines the daemons run on.
    pub(crate) fn now_millis(self) -> &'static str {
        match self {
            Dialect::Sqlite => "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)",
            Dialect::Postgres => "CAST(extract(epoch FROM clock_timestamp()) * 1000 AS BIGINT)",
        }
    }

    /// The end of a `SELECT` that takes the rows it returns for this transaction, passing over
    /// rows another transaction holds (PostgreSQL); SQLite, with one writer at a time, needs none.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => "FOR UPDATE SKIP LOCKED",
        }
    }

    /// A table `(key, value)` of the elements of a JSON array of strings passed as parameter
    /// `param` (`?2`), `key` counting from 0, under the alias `alias`.
    pub(crate) fn string_list(self, param: &str, alias: &str) -> String {
        match self {
            Dialect::Sqlite => format!("json_each({param}) AS {alias}"),
            Dialect::Postgres => format!(
                "(SELECT ordinality - 1 AS key, value FROM jsonb_array_elements_text(CAST(CAST({param} AS text) AS jsonb)) WITH ORDINALITY) AS {alias}"
            ),
        }
    }
}

/// One value, as SQLite knows them.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Value {
    fn kind(&self) -> &'static str {
        match self {
            Value::Null => "NULL",
            Value::Int(_) => "an integer",
            Value::Real(_) => "a number",
            Value::Text(_) => "text",
            Value::Blob(_) => "bytes",
        }
    }
}

/// Why a statement failed.
#[derive(Debug)]
pub(crate) enum DbError {
    Sqlite(rusqlite::Error),
    Postgres(postgres::Error),
    /// A stored value of the wrong kind, or one this build does not know.
    Decode(String),
}

impl From<rusqlite::Error> for DbError {
    fn from(e: rusqlite::Error) -> Self {
        DbError::Sqlite(e)
    }
}

impl From<postgres::Error> for DbError {
    fn from(e: postgres::Error) -> Self {
        DbError::Postgres(e)
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// A parameter.
pub(crate) trait ToValue {
    fn to_value(&self) -> Value;
}

/// A column read back.
pub(crate) trait FromValue: Sized {
    fn from_value(value: &Value) -> DbResult<Self>;
}

macro_rules! int_values {
    ($($t:ty),*) => {$(
        impl ToValue for $t {
            fn to_value(&self) -> Value {
                Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
            }
        }
        impl FromValue for $t {
            fn from_value(value: &Value) -> DbResult<Self> {
                match value {
                    Value::Int(n) => <$t>::try_from(*n)
                        .map_err(|_| DbError::Decode(format!("{n} is out of range for {}", stringify!($t)))),
                    other => Err(mismatch("an integer", other)),
                }
            }
        }
    )*};
}
int_values!(i64, u32, usize, u64);

fn mismatch(expected: &str, found: &Value) -> DbError {
    DbError::Decode(format!("expected {expected}, found {}", found.kind()))
}

impl ToValue for f64 {
    fn to_value(&self) -> Value {
        Value::Real(*self)
    }
}

impl FromValue for f64 {
    fn from_value(value: &Value) -> DbResult<Self> {
        match value {
            Value::Real(x) => Ok(*x),
            // SQLite stores a whole REAL as it likes; a SUM over no row is the integer 0.
            Value::Int(n) => Ok(*n as f64),
            other => Err(mismatch("a number", other)),
        }
    }
}

impl ToValue for str {
    fn to_value(&self) -> Value {
        Value::Text(self.to_string())
    }
}

impl ToValue for String {
    fn to_value(&self) -> Value {
        Value::Text(self.clone())
    }
}

impl FromValue for String {
    fn from_value(value: &Value) -> DbResult<Self> {
        match value {
            Value::Text(s) => Ok(s.clone()),
            other => Err(mismatch("text", other)),
        }
    }
}

impl ToValue for [u8] {
    fn to_value(&self) -> Value {
        Value::Blob(self.to_vec())
    }
}

impl ToValue for Vec<u8> {
    fn to_value(&self) -> Value {
        Value::Blob(self.clone())
    }
}

impl FromValue for Vec<u8> {
    fn from_value(value: &Value) -> DbResult<Self> {
        match value {
            Value::Blob(b) => Ok(b.clone()),
            other => Err(mismatch("bytes", other)),
        }
    }
}

impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> Value {
        (**self).to_value()
    }
}

impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> Value {
        match self {
            Some(v) => v.to_value(),
            None => Value::Null,
        }
    }
}

impl<T: FromValue> FromValue for Option<T> {
    fn from_value(value: &Value) -> DbResult<Self> {
        match value {
            Value::Null => Ok(None),
            other => T::from_value(other).map(Some),
        }
    }
}

impl ToValue for StageOutcome {
    fn to_value(&self) -> Value {
        Value::Text(self.as_str().to_string())
    }
}

impl FromValue for StageOutcome {
    fn from_value(value: &Value) -> DbResult<Self> {
        String::from_value(value)?.parse().map_err(|e| DbError::Decode(format!("{e}")))
    }
}

impl FromValue for FileState {
    fn from_value(value: &Value) -> DbResult<Self> {
        String::from_value(value)?.parse().map_err(|e| DbError::Decode(format!("{e}")))
    }
}

/// Parameters for [`Db::execute`] and [`Db::query`].
macro_rules! params {
    ($($p:expr),* $(,)?) => {
        &[$(&$p as &dyn $crate::db::ToValue),*] as &[&dyn $crate::db::ToValue]
    };
}
pub(crate) use params;

/// One row read.
#[derive(Debug, Clone)]
pub(crate) struct Row(Vec<Value>);

impl Row {
    /// Column `index`, as `T`.
    pub(crate) fn get<T: FromValue>(&self, index: usize) -> DbResult<T> {
        let value = self.0.get(index).unwrap_or(&Value::Null);
        T::from_value(value).map_err(|e| match e {
            DbError::Decode(problem) => DbError::Decode(format!("column {index}: {problem}")),
            other => other,
        })
    }
}

/// Runs statements; a transaction or a plain connection alike.
pub(crate) trait Db {
    fn dialect(&self) -> Dialect;

    /// Runs a statement; returns the rows it changed.
    fn execute(&mut self, sql: &str, params: &[&dyn ToValue]) -> DbResult<usize>;

    /// Runs a query; returns every row.
    fn query(&mut self, sql: &str, params: &[&dyn ToValue]) -> DbResult<Vec<Row>>;

    /// The first row, if any.
    fn query_opt(&mut self, sql: &str, params: &[&dyn ToValue]) -> DbResult<Option<Row>> {
        Ok(self.query(sql, params)?.into_iter().next())
    }

    /// The first row, which must be there (an aggregate, `RETURNING`).
    fn query_one(&mut self, sql: &str, params: &[&dyn ToValue]) -> DbResult<Row> {
        self.query_opt(sql, params)?.ok_or_else(|| DbError::Decode("the statement returned no row".into()))
    }
}

/// SQLite, through one connection (or a transaction, which derefs to one).
pub(crate) struct SqliteDb<'a>(pub(crate) &'a rusqlite::Connection);

fn sqlite_params(params: &[&dyn ToValue]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match p.to_value() {
            Value::Null => rusqlite::types::Value::Null,
            Value::Int(n) => rusqlite::types::Value::Integer(n),
            Value::Real(x) => rusqlite::types::Value::Real(x),
            Value::Text(s) => rusqlite::types::Value::Text(s),
            Value::Blob(b) => rusqlite::types::Value::Blob(b),
        })
        .collect()
}

impl Db for SqliteDb<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn execute(&mut self, sql: &str, params: &[&dyn ToValue]) -> DbResult<usize> {
        let mut stmt = self.0.prepare_cached(sql)?;
        Ok(stmt.execute(rusqlite::params_from_iter(sqlite_params(params)))?)
    }

    fn query(&mut self, sql: &str, params: &[&dyn ToValue]) -> DbResult<Vec<Row>> {
        let mut stmt = self.0.prepare_cached(sql)?;
        let n = stmt.column_count();
        let mut rows = stmt.query(rusqlite::params_from_iter(sqlite_params(params)))?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let mut values = Vec::with_capacity(n);
            for i in 0..n {
                values.push(match row.get_ref(i)? {
                    rusqlite::types::ValueRef::Null => Value::Null,
                    rusqlite::types::ValueRef::Integer(n) => Value::Int(n),
                    rusqlite::types::ValueRef::Real(x) => Value::Real(x),
                    rusqlite::types::ValueRef::Text(t) => Value::Text(
                        String::from_utf8(t.to_vec())
                            .map_err(|_| DbError::Decode(format!("column {i} is not UTF-8 text")))?,
                    ),
                    rusqlite::types::ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                });
            }
            out.push(Row(values));
        }
        Ok(out)
    }
}

/// PostgreSQL, through a client or a transaction, with the statements prepared once per
/// connection.
pub(crate) struct PgDb<'a, C: postgres::GenericClient> {
    pub(crate) client: &'a mut C,
    pub(crate) statements: &'a mut HashMap<String, postgres::Statement>,
}

/// `?N` as `$N`, outside quoted text.
pub(crate) fn to_postgres(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) => {
                out.push('$');
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    out
}

impl<C: postgres::GenericClient> PgDb<'_, C> {
    fn statement(&mut self, sql: &str) -> DbResult<postgres::Statement> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(&to_postgres(sql))?;
        self.statements.insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }
}

impl<C: postgres::GenericClient> Db for PgDb<'_, C> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&mut self, sql: &str, params: &[&dyn ToValue]) -> DbResult<usize> {
        let stmt = self.statement(sql)?;
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let n = self.client.execute(&stmt, &refs)?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    fn query(&mut self, sql: &str, params: &[&dyn ToValue]) -> DbResult<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let values: Vec<Value> = params.iter().map(|p| p.to_value()).collect();
        let refs: Vec<&(dyn ToSql + Sync)> = values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let rows = self.client.query(&stmt, &refs)?;
        rows.iter()
            .map(|row| {
                (0..row.len()).map(|i| Ok(row.try_get::<_, Value>(i)?)).collect::<DbResult<Vec<_>>>().map(Row)
            })
            .collect()
    }
}

type BoxError = Box<dyn Error + Sync + Send>;

impl ToSql for Value {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxError> {
        // `Type`'s constants cannot be patterns (it holds an `Arc` for unknown types).
        match self {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(n) if *ty == Type::INT8 => n.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT4 => i32::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::INT2 => i16::try_from(*n)?.to_sql(ty, out),
            Value::Int(n) if *ty == Type::FLOAT8 => (*n as f64).to_sql(ty, out),
            Value::Int(n) if *ty == Type::BOOL => (*n != 0).to_sql(ty, out),
            Value::Int(n) if *ty == Type::TEXT || *ty == Type::VARCHAR => n.to_string().to_sql(ty, out),
            Value::Real(x) if *ty == Type::FLOAT8 => x.to_sql(ty, out),
            Value::Real(x) if *ty == Type::FLOAT4 => (*x as f32).to_sql(ty, out),
            Value::Text(s) if *ty == Type::BYTEA => s.as_bytes().to_sql(ty, out),
            Value::Text(s) if <&str as ToSql>::accepts(ty) => s.as_str().to_sql(ty, out),
            Value::Blob(b) if *ty == Type::BYTEA => b.as_slice().to_sql(ty, out),
            value => Err(format!("cannot pass {} as {ty}", value.kind()).into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl<'a> FromSql<'a> for Value {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        Ok(if *ty == Type::INT8 {
            Value::Int(i64::from_sql(ty, raw)?)
        } else if *ty == Type::INT4 {
            Value::Int(i32::from_sql(ty, raw)?.into())
        } else if *ty == Type::INT2 {
            Value::Int(i16::from_sql(ty, raw)?.into())
        } else if *ty == Type::BOOL {
            Value::Int(bool::from_sql(ty, raw)?.into())
        } else if *ty == Type::FLOAT8 {
            Value::Real(f64::from_sql(ty, raw)?)
        } else if *ty == Type::FLOAT4 {
            Value::Real(f32::from_sql(ty, raw)?.into())
        } else if *ty == Type::BYTEA {
            Value::Blob(raw.to_vec())
        } else {
            Value::Text(String::from_sql(ty, raw)?)
        })
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(Value::Null)
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::INT8,
            Type::INT4,
            Type::INT2,
            Type::BOOL,
            Type::FLOAT8,
            Type::FLOAT4,
            Type::BYTEA,
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::NAME,
            Type::UNKNOWN,
        ]
        .contains(ty)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbered_parameters_become_dollars_outside_quotes() {
        assert_eq!(
            to_postgres("SELECT ?1, '?2', \"?3\" FROM t WHERE a = ?12 AND b = ?"),
            "SELECT $1, '?2', \"?3\" FROM t WHERE a = $12 AND b = ?"
        );
    }

    #[test]
    fn json_paths_are_spelled_per_dialect() {
        assert_eq!(
            Dialect::Sqlite.json_text("data", &["metadata", "dedupe.reprint_of"]),
            "json_extract(data, '$.\"metadata\".\"dedupe.reprint_of\"')"
        );
        assert_eq!(
            Dialect::Postgres.json_text("data", &["metadata", "dedupe.reprint_of"]),
            "(CAST(data AS json) #>> '{\"metadata\",\"dedupe.reprint_of\"}')"
        );
    }
}
