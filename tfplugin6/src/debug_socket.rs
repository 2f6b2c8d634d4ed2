//! The unix socket `-debug` serves on: in a folder made for it with mode 0700, so only the
//! user who started the provider can reach it (connecting to a unix socket needs search
//! permission on its folder). go-plugin makes its sockets the same way (`os.MkdirTemp`, 0700).

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::PathBuf;

pub struct DebugSocket {
    pub folder: PathBuf,
    pub path: PathBuf,
    pub listener: tokio::net::UnixListener,
}

/// The socket's folder: only its owner may list, enter or write it.
pub const FOLDER_MODE: u32 = 0o700;

impl DebugSocket {
    /// A new folder under the temporary directory, made fresh (never an existing one, so
    /// nobody can have prepared it), and the socket inside.
    pub fn create() -> std::io::Result<DebugSocket> {
        let base = std::env::temp_dir();
        let mut last = None;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        for attempt in 0..16u32 {
            // The name need not be secret: the folder is made anew (an existing one, which
            // someone else could have prepared, is never used) and its mode set.
            let folder = base.join(format!(
                "terraform-provider-debug-{}-{nanos:08x}-{attempt}",
                std::process::id(),
            ));
            match std::fs::DirBuilder::new().mode(FOLDER_MODE).create(&folder) {
                Ok(()) => return DebugSocket::inside(folder),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
                Err(e) => return Err(e),
            }
        }
        Err(last.unwrap_or_else(|| std::io::Error::other("no free folder name")))
    }

    fn inside(folder: PathBuf) -> std::io::Result<DebugSocket> {
        // The umask may have narrowed the mode, never widened it; set it exactly.
        std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(FOLDER_MODE))?;
        let path = folder.join("plugin.sock");
        let listener = tokio::net::UnixListener::bind(&path)?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
        Ok(DebugSocket {
            folder,
            path,
            listener,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_socket_lives_in_a_new_folder_only_its_owner_opens() {
        let a = DebugSocket::create().unwrap();
        let b = DebugSocket::create().unwrap();
        assert_ne!(a.folder, b.folder, "each process run gets its own folder");
        for s in [&a, &b] {
            let mode = std::fs::metadata(&s.folder).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, FOLDER_MODE);
            let mode = std::fs::metadata(&s.path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
            tokio::net::UnixStream::connect(&s.path).await.unwrap();
            std::fs::remove_dir_all(&s.folder).unwrap();
        }
    }
}
