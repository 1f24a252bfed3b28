//! The `Database` type sqlx's `Any` registry asks a driver for.
//!
//! Only its connection and options are ever used: every query goes through
//! `AnyPool`, so rows, values and statements are `Any`'s own. The engine's
//! generic row, column, value and statement types are therefore the empty
//! type [`NeverBuilt`], which the compiler proves is never constructed.

use std::borrow::Cow;

use futures_core::future::BoxFuture;
use sqlx_core::any::{AnyArgumentBuffer, AnyConnectionBackend, AnyQueryResult, AnyTypeInfo};
use sqlx_core::arguments::Arguments;
use sqlx_core::column::{Column, ColumnIndex};
use sqlx_core::connection::Connection;
use sqlx_core::database::Database;
use sqlx_core::encode::Encode;
use sqlx_core::error::{BoxDynError, Error};
use sqlx_core::row::Row;
use sqlx_core::statement::Statement;
use sqlx_core::transaction::{Transaction, TransactionManager};
use sqlx_core::types::Type;
use sqlx_core::value::{Value, ValueRef};
use sqlx_core::Either;

use super::conn::{InlineConnection, InlineOptions};

/// The embedded SQLite engine, as sqlx's driver registry sees it.
#[derive(Debug)]
pub struct InlineSqlite;

impl Database for InlineSqlite {
    type Connection = InlineConnection;
    type TransactionManager = InlineTransactions;
    type Row = NeverBuilt;
    type QueryResult = AnyQueryResult;
    type Column = NeverBuilt;
    type TypeInfo = AnyTypeInfo;
    type Value = NeverBuilt;
    type ValueRef<'r> = NeverBuilt;
    type Arguments<'q> = InlineArguments<'q>;
    type ArgumentBuffer<'q> = AnyArgumentBuffer<'q>;
    type Statement<'q> = NeverBuilt;

    const NAME: &'static str = "SQLite";
    const URL_SCHEMES: &'static [&'static str] = &["sqlite"];
}

/// Rows, columns, values and statements of this engine outside `Any`: none.
#[derive(Debug, Clone)]
pub enum NeverBuilt {}

impl Row for NeverBuilt {
    type Database = InlineSqlite;

    fn columns(&self) -> &[NeverBuilt] {
        match *self {}
    }

    fn try_get_raw<I: ColumnIndex<Self>>(&self, _index: I) -> Result<NeverBuilt, Error> {
        match *self {}
    }
}

impl Column for NeverBuilt {
    type Database = InlineSqlite;

    fn ordinal(&self) -> usize {
        match *self {}
    }

    fn name(&self) -> &str {
        match *self {}
    }

    fn type_info(&self) -> &AnyTypeInfo {
        match *self {}
    }
}

impl Value for NeverBuilt {
    type Database = InlineSqlite;

    fn as_ref(&self) -> NeverBuilt {
        match *self {}
    }

    fn type_info(&self) -> Cow<'_, AnyTypeInfo> {
        match *self {}
    }

    fn is_null(&self) -> bool {
        match *self {}
    }
}

impl ValueRef<'_> for NeverBuilt {
    type Database = InlineSqlite;

    fn to_owned(&self) -> NeverBuilt {
        match *self {}
    }

    fn type_info(&self) -> Cow<'_, AnyTypeInfo> {
        match *self {}
    }

    fn is_null(&self) -> bool {
        match *self {}
    }
}

impl<'q> Statement<'q> for NeverBuilt {
    type Database = InlineSqlite;

    fn to_owned(&self) -> NeverBuilt {
        match *self {}
    }

    fn sql(&self) -> &str {
        match *self {}
    }

    fn parameters(&self) -> Option<Either<&[AnyTypeInfo], usize>> {
        match *self {}
    }

    fn columns(&self) -> &[NeverBuilt] {
        match *self {}
    }

    sqlx_core::impl_statement_query!(InlineArguments<'_>);
}

/// Arguments in `Any`'s buffer (the driver reads `AnyArguments` directly).
pub struct InlineArguments<'q>(AnyArgumentBuffer<'q>);

impl Default for InlineArguments<'_> {
    fn default() -> Self {
        InlineArguments(AnyArgumentBuffer(Vec::new()))
    }
}

impl<'q> Arguments<'q> for InlineArguments<'q> {
    type Database = InlineSqlite;

    fn reserve(&mut self, additional: usize, _size: usize) {
        self.0 .0.reserve(additional);
    }

    fn add<T>(&mut self, value: T) -> Result<(), BoxDynError>
    where
        T: 'q + Encode<'q, InlineSqlite> + Type<InlineSqlite>,
    {
        let _ = value.encode_by_ref(&mut self.0)?;
        Ok(())
    }

    fn len(&self) -> usize {
        self.0 .0.len()
    }
}

/// Transactions and savepoints, counted on the connection.
pub struct InlineTransactions;

impl TransactionManager for InlineTransactions {
    type Database = InlineSqlite;

    fn begin<'conn>(
        conn: &'conn mut InlineConnection,
        statement: Option<Cow<'static, str>>,
    ) -> BoxFuture<'conn, Result<(), Error>> {
        let result = conn.tx_begin(statement);
        Box::pin(async move { result })
    }

    fn commit(conn: &mut InlineConnection) -> BoxFuture<'_, Result<(), Error>> {
        let result = conn.tx_commit();
        Box::pin(async move { result })
    }

    fn rollback(conn: &mut InlineConnection) -> BoxFuture<'_, Result<(), Error>> {
        let result = conn.tx_rollback();
        Box::pin(async move { result })
    }

    fn start_rollback(conn: &mut InlineConnection) {
        AnyConnectionBackend::start_rollback(conn);
    }

    fn get_transaction_depth(conn: &InlineConnection) -> usize {
        conn.depth()
    }
}

impl Connection for InlineConnection {
    type Database = InlineSqlite;
    type Options = InlineOptions;

    fn close(self) -> BoxFuture<'static, Result<(), Error>> {
        AnyConnectionBackend::close(Box::new(self))
    }

    fn close_hard(self) -> BoxFuture<'static, Result<(), Error>> {
        AnyConnectionBackend::close_hard(Box::new(self))
    }

    fn ping(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        AnyConnectionBackend::ping(self)
    }

    fn begin(&mut self) -> BoxFuture<'_, Result<Transaction<'_, InlineSqlite>, Error>>
    where
        Self: Sized,
    {
        Transaction::begin(self, None)
    }

    fn shrink_buffers(&mut self) {}

    fn flush(&mut self) -> BoxFuture<'_, Result<(), Error>> {
        AnyConnectionBackend::flush(self)
    }

    fn should_flush(&self) -> bool {
        false
    }
}
