//! Uploaded files on disk, under the data directory:
//! `{data_dir}/uploads/{agency_id}/{client_id}/{stored_name}`.
//!
//! Every path is built from components that must each be one plain name (no
//! separators, no `.`/`..`), and is checked to stay under the uploads
//! directory. Writes go to a temporary file in the same directory, are
//! flushed to disk, then renamed into place, so a crash never leaves half a
//! file under a real name.

use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

/// The uploads directory of a data directory.
pub fn root(data_dir: &Path) -> PathBuf {
    data_dir.join("uploads")
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("unsafe path part: {what}"),
    )
}

/// Whether `part` is one plain file name: not empty, not `.`/`..`, no
/// separators or NUL, nothing the platform would read as a prefix or root.
pub fn is_plain(part: &str) -> bool {
    if part.is_empty() || part.len() > 255 || part.contains(['/', '\\', '\0']) {
        return false;
    }
    let mut comps = Path::new(part).components();
    matches!(
        (comps.next(), comps.next()),
        (Some(Component::Normal(_)), None)
    )
}

/// The path of a stored file, refusing any component that is not a plain
/// name and any result outside the uploads directory.
pub fn path_for(
    data_dir: &Path,
    agency_id: &str,
    client_id: &str,
    stored_name: &str,
) -> io::Result<PathBuf> {
    for part in [agency_id, client_id, stored_name] {
        if !is_plain(part) {
            return Err(invalid(part));
        }
    }
    let root = root(data_dir);
    let path = root.join(agency_id).join(client_id).join(stored_name);
    if !path.starts_with(&root) || path.components().any(|c| matches!(c, Component::ParentDir)) {
        return Err(invalid(stored_name));
    }
    Ok(path)
}

/// Writes `bytes` as a new stored file, atomically (temp file + fsync +
/// rename). An existing file of that name is never overwritten.
pub async fn store(
    data_dir: &Path,
    agency_id: &str,
    client_id: &str,
    stored_name: &str,
    bytes: Vec<u8>,
) -> io::Result<PathBuf> {
    let path = path_for(data_dir, agency_id, client_id, stored_name)?;
    let target = path.clone();
    tokio::task::spawn_blocking(move || write_atomically(&target, &bytes))
        .await
        .map_err(io::Error::other)??;
    Ok(path)
}

fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().ok_or_else(|| invalid("no parent"))?;
    std::fs::create_dir_all(dir)?;
    if path.exists() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "stored file exists",
        ));
    }
    let tmp = dir.join(format!(".tmp-{}", baton_core::secret::random_token()));
    let result = (|| {
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o640);
        let mut f = opts.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        drop(f);
        std::fs::rename(&tmp, path)?;
        // Make the rename itself durable (best effort: not every platform
        // can open a directory).
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A file being received in pieces (a draft video can be hundreds of MB):
/// written to a temporary file beside its final place, then renamed into
/// place by [`Incoming::finish`]. Dropped unfinished, the temporary file is
/// removed.
pub struct Incoming {
    dir: PathBuf,
    tmp: PathBuf,
    file: Option<tokio::fs::File>,
    written: u64,
    /// Renamed into place: the temporary file is gone.
    done: bool,
}

impl Incoming {
    /// Starts a file for `agency_id`/`client_id` (both plain names).
    pub async fn create(data_dir: &Path, agency_id: &str, client_id: &str) -> io::Result<Incoming> {
        let tmp_name = format!(".tmp-{}", baton_core::secret::random_token());
        let tmp = path_for(data_dir, agency_id, client_id, &tmp_name)?;
        let dir = tmp
            .parent()
            .ok_or_else(|| invalid("no parent"))?
            .to_path_buf();
        tokio::fs::create_dir_all(&dir).await?;
        let mut opts = tokio::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        opts.mode(0o640);
        let file = opts.open(&tmp).await?;
        Ok(Incoming {
            dir,
            tmp,
            file: Some(file),
            written: 0,
            done: false,
        })
    }

    /// Appends a piece.
    pub async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        use tokio::io::AsyncWriteExt;
        let file = self.file.as_mut().ok_or_else(|| invalid("finished"))?;
        file.write_all(bytes).await?;
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// Flushes the file to disk and gives it its stored name (in the same
    /// directory); an existing file of that name is never overwritten.
    pub async fn finish(mut self, stored_name: &str) -> io::Result<PathBuf> {
        use tokio::io::AsyncWriteExt;
        if !is_plain(stored_name) {
            return Err(invalid(stored_name));
        }
        let mut file = self.file.take().ok_or_else(|| invalid("finished"))?;
        file.flush().await?;
        file.sync_all().await?;
        drop(file);
        let path = self.dir.join(stored_name);
        let (tmp, dir, target) = (self.tmp.clone(), self.dir.clone(), path.clone());
        tokio::task::spawn_blocking(move || {
            // A hard link fails if the name exists, so nothing is replaced.
            std::fs::hard_link(&tmp, &target)?;
            std::fs::remove_file(&tmp)?;
            if let Ok(d) = std::fs::File::open(&dir) {
                let _ = d.sync_all();
            }
            Ok::<_, io::Error>(())
        })
        .await
        .map_err(io::Error::other)??;
        self.done = true;
        Ok(path)
    }
}

impl Drop for Incoming {
    fn drop(&mut self) {
        // Unfinished (refused, failed or abandoned): nothing stays behind.
        if !self.done {
            self.file.take();
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

/// Reads a stored file back (for downloads).
pub async fn read(
    data_dir: &Path,
    agency_id: &str,
    client_id: &str,
    stored_name: &str,
) -> io::Result<Vec<u8>> {
    let path = path_for(data_dir, agency_id, client_id, stored_name)?;
    tokio::fs::read(path).await
}

/// Removes a stored file (when recording it failed); a missing file is fine.
pub async fn remove(
    data_dir: &Path,
    agency_id: &str,
    client_id: &str,
    stored_name: &str,
) -> io::Result<()> {
    let path = path_for(data_dir, agency_id, client_id, stored_name)?;
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_components() {
        let data = Path::new("/srv/baton");
        let ok = path_for(data, "agy_1", "cli_2", "fil_3-logo.png").unwrap();
        assert_eq!(
            ok,
            Path::new("/srv/baton/uploads/agy_1/cli_2/fil_3-logo.png")
        );
        for (a, c, n) in [
            ("..", "cli_2", "x.png"),
            ("agy_1", "../cli_2", "x.png"),
            ("agy_1", "cli_2", "../../etc/passwd"),
            ("agy_1", "cli_2", "/etc/passwd"),
            ("agy_1", "cli_2", "a\\b"),
            ("agy_1", "cli_2", "."),
            ("agy_1", "cli_2", ""),
            ("agy_1", "cli_2", "nul\0byte"),
        ] {
            assert!(path_for(data, a, c, n).is_err(), "{a} {c} {n}");
        }
    }

    #[tokio::test]
    async fn store_read_remove() {
        let dir = std::env::temp_dir().join(format!(
            "baton-uploads-{}",
            baton_core::secret::random_token()
        ));
        let p = store(&dir, "agy_1", "cli_1", "fil_1-a.txt", b"hello".to_vec())
            .await
            .unwrap();
        assert!(p.starts_with(root(&dir)));
        assert_eq!(
            read(&dir, "agy_1", "cli_1", "fil_1-a.txt").await.unwrap(),
            b"hello"
        );
        // never overwritten
        assert!(
            store(&dir, "agy_1", "cli_1", "fil_1-a.txt", b"other".to_vec())
                .await
                .is_err()
        );
        assert_eq!(
            read(&dir, "agy_1", "cli_1", "fil_1-a.txt").await.unwrap(),
            b"hello"
        );
        // no temp files left behind
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec!["fil_1-a.txt".to_string()]);
        remove(&dir, "agy_1", "cli_1", "fil_1-a.txt").await.unwrap();
        remove(&dir, "agy_1", "cli_1", "fil_1-a.txt").await.unwrap();
        assert!(read(&dir, "agy_1", "cli_1", "fil_1-a.txt").await.is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
