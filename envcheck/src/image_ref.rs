//! Container image references: the one rule for what counts as pinned.

/// Why an image reference is not pinned, or `None` when it has a version tag or digest.
/// The one pinning rule: `release.toml`'s `runtime.base_image`, the Dockerfile audit and
/// `BASE_IMAGE` in `.env` all use it.
pub fn image_pin_problem(image: &str) -> Option<String> {
    if image.contains("@sha256:") {
        return None;
    }
    if image.contains("@@") {
        return Some(format!("{image} still holds a package placeholder"));
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some(format!("{image} has no tag, so it means {image}:latest")),
        Some((_, "latest")) => Some(format!("{image} uses the moving :latest tag")),
        Some((_, "")) => Some(format!("{image} has an empty tag")),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_or_not() {
        for ok in ["alpine:3.20.3", "registry:5000/app:1.2", "a@sha256:abc"] {
            assert_eq!(image_pin_problem(ok), None, "{ok}");
        }
        for (bad, why) in [
            ("alpine", "no tag"),
            ("alpine:latest", ":latest"),
            ("alpine:", "empty tag"),
            ("registry:5000/app", "no tag"),
            ("@@BASE_IMAGE@@", "placeholder"),
        ] {
            let p = image_pin_problem(bad).unwrap();
            assert!(p.contains(why), "{bad}: {p}");
        }
    }
}
