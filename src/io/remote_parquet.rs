//! Parquet under an object-store prefix: list the files, check every footer.
//!
//! The local reader opens each footer before DataFusion sees the files so that a
//! truncated file is an input error naming it; this does the same over the network
//! (one ranged read per file, the footer only).

use futures::TryStreamExt;
use object_store::{ObjectMeta, ObjectStoreExt};
use parquet::file::metadata::{FooterTail, ParquetMetaDataReader};

use crate::error::{Error, Result};
use crate::io::storage::{Remote, store_error};

/// The `.parquet` objects under `remote` (the object itself when it is one file).
pub async fn list(remote: &Remote, what: &str) -> Result<Vec<ObjectMeta>> {
    let context = format!("{what} {}: listing", remote.url());
    let mut files: Vec<ObjectMeta> = remote
        .store
        .list(Some(&remote.prefix))
        .try_collect()
        .await
        .map_err(store_error(context))?;
    files.retain(|m| m.location.as_ref().ends_with(".parquet"));
    files.sort_by(|a, b| a.location.cmp(&b.location));
    if files.is_empty() {
        // A single file is not listed under itself on every store; ask for it directly.
        if let Ok(meta) = remote.store.head(&remote.prefix).await {
            return Ok(vec![meta]);
        }
        return Err(Error::input(format!(
            "{what} {}: no .parquet files there",
            remote.url()
        )));
    }
    Ok(files)
}

/// Open each file's footer; a truncated or corrupt file is an input error naming it.
pub async fn check_footers(remote: &Remote, what: &str) -> Result<u64> {
    footers_of(remote, &list(remote, what).await?).await
}

/// Check the footers and return what DataFusion should read: the prefix as a
/// directory, or the single file (one listing for both).
pub async fn checked_listing_url(remote: &Remote, what: &str) -> Result<String> {
    let files = list(remote, what).await?;
    footers_of(remote, &files).await?;
    if files.len() == 1 && files[0].location == remote.prefix {
        return Ok(remote.url());
    }
    Ok(format!("{}/", remote.url().trim_end_matches('/')))
}

async fn footers_of(remote: &Remote, files: &[ObjectMeta]) -> Result<u64> {
    let mut rows = 0;
    for meta in files {
        let url = format!("{}{}", remote.base, meta.location);
        rows += footer_rows(remote, meta)
            .await
            .map_err(|reason| Error::CorruptParquet { path: url, reason })?;
    }
    Ok(rows)
}

/// Rows in one file, from its footer: two ranged reads (length and magic, then metadata).
async fn footer_rows(remote: &Remote, meta: &ObjectMeta) -> std::result::Result<u64, String> {
    const TAIL: u64 = 8;
    if meta.size < TAIL + 4 {
        return Err(format!("{} bytes is too short for Parquet", meta.size));
    }
    let store = &remote.store;
    let tail = store
        .get_range(&meta.location, meta.size - TAIL..meta.size)
        .await
        .map_err(|e| e.to_string())?;
    let tail = FooterTail::try_from(tail.as_ref()).map_err(|e| e.to_string())?;
    let len = tail.metadata_length() as u64;
    if len + TAIL + 4 > meta.size {
        return Err(format!(
            "footer claims {len} bytes of metadata in a {}-byte file",
            meta.size
        ));
    }
    let start = meta.size - TAIL - len;
    let footer = store
        .get_range(&meta.location, start..meta.size - TAIL)
        .await
        .map_err(|e| e.to_string())?;
    let metadata = ParquetMetaDataReader::decode_metadata(&footer).map_err(|e| e.to_string())?;
    Ok(metadata.file_metadata().num_rows() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::io::storage::{Location, Stores};

    async fn remote_with(files: &[(&str, &[u8])]) -> Remote {
        let Location::Remote(remote) = Stores::default().locate("memory://b/run").unwrap() else {
            unreachable!()
        };
        for (name, bytes) in files {
            let path = remote.child(name).prefix;
            remote
                .store
                .put(&path, bytes.to_vec().into())
                .await
                .unwrap();
        }
        remote
    }

    #[tokio::test]
    async fn an_empty_prefix_is_an_input_error() {
        let remote = remote_with(&[("notes.txt", b"x")]).await;
        let e = check_footers(&remote, "features input").await.unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("memory://b/run: no .parquet files"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn a_truncated_file_is_named() {
        let remote = remote_with(&[("part-0.parquet", b"PAR1 not really")]).await;
        let e = check_footers(&remote, "features input").await.unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().contains("memory://b/run/part-0.parquet"),
            "{e}"
        );
    }
}
