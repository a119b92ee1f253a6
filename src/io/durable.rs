//! Files that survive a crash whole: written beside their final name, flushed to disk,
//! renamed into place, and the rename itself flushed with the directory. A reader after
//! a power loss sees the old file or the new one, never a torn or empty one.

use std::fs::File;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Replace `path` with `bytes`.
pub fn write(path: &Path, bytes: &[u8], what: &str) -> Result<()> {
    let tmp = tmp_of(path);
    let mut file = File::create(&tmp).map_err(Error::io(format!("writing {what}"), &tmp))?;
    file.write_all(bytes)
        .map_err(Error::io(format!("writing {what}"), &tmp))?;
    publish(file, &tmp, path, what)
}

/// Flush `file` (the written `tmp`) and rename it to `path`, durably.
pub fn publish(file: File, tmp: &Path, path: &Path, what: &str) -> Result<()> {
    file.sync_all()
        .map_err(Error::io(format!("flushing {what} to disk"), tmp))?;
    drop(file);
    std::fs::rename(tmp, path).map_err(Error::io(format!("renaming {what} into place"), path))?;
    sync_dir(path.parent().unwrap_or(Path::new(".")), what)
}

/// Flush a directory, so a rename in it is on disk.
pub fn sync_dir(dir: &Path, what: &str) -> Result<()> {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(Error::io(format!("flushing the directory of {what}"), dir))
}

/// Flush every written file and directory entry of the filesystem holding `path` in
/// one call: one journal commit for a whole rewrite, where an fsync per file (and per
/// partition directory) costs one each.
pub fn sync_filesystem(path: &Path, what: &str) -> Result<()> {
    let context = || format!("flushing {what} to disk");
    let dir = File::open(path).map_err(Error::io(context(), path))?;
    #[cfg(target_os = "linux")]
    let synced = rustix::fs::syncfs(&dir);
    #[cfg(not(target_os = "linux"))]
    let synced = {
        drop(dir);
        rustix::fs::sync();
        Ok(())
    };
    synced.map_err(|e| Error::io(context(), path)(std::io::Error::from(e)))
}

/// The temporary name `path` is written under first.
pub fn tmp_of(path: &Path) -> std::path::PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_file_and_leaves_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("manifest.json");
        super::write(&path, b"one", "manifest").unwrap();
        super::write(&path, b"two", "manifest").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
