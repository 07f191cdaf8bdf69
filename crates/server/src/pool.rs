//! A small pool of open stores. Handlers run their database work on the
//! blocking thread pool with a store taken from here, so requests never
//! wait on each other's connections and the async workers never block.

use crate::error::{ApiError, ApiResult};
use palisade_store::{Database, Location, StoreError};
use std::sync::{Arc, Mutex};

/// Open stores for one location.
pub struct Pool {
    location: Location,
    idle: Mutex<Vec<Box<dyn Database>>>,
    max_idle: usize,
}

impl Pool {
    /// Opens (and migrates) the store once, keeping it for later use.
    pub fn open(location: Location, max_idle: usize) -> Result<Arc<Self>, StoreError> {
        let first = palisade_store::open(&location)?;
        Ok(Arc::new(Pool { location, idle: Mutex::new(vec![first]), max_idle: max_idle.max(1) }))
    }

    /// Where the data lives.
    pub fn location(&self) -> &Location {
        &self.location
    }

    fn take(&self) -> Result<Box<dyn Database>, StoreError> {
        let spare = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        match spare {
            Some(store) => Ok(store),
            None => palisade_store::open(&self.location),
        }
    }

    fn give_back(&self, store: Box<dyn Database>) {
        let mut idle = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if idle.len() < self.max_idle {
            idle.push(store);
        }
    }

    /// Runs `work` with a store on the blocking pool.
    pub async fn run<T, F>(self: &Arc<Self>, work: F) -> ApiResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn Database) -> ApiResult<T> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut store = pool.take()?;
            let result = work(store.as_mut());
            // A store whose last use failed at the database level may have a
            // broken connection: drop it rather than hand it out again.
            if !matches!(&result, Err(e) if e.status.is_server_error()) {
                pool.give_back(store);
            }
            result
        })
        .await
        .map_err(|e| ApiError::internal("database task", e))?
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // PostgreSQL's blocking client must not be closed on an async
        // worker (where the last reference often goes): close on a thread.
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(|p| p.into_inner()));
        let _ = std::thread::spawn(move || drop(idle)).join();
    }
}
