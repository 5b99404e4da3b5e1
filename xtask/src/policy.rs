//! What must never be packaged: environment files, private keys, certificate bundles, token
//! and credentials files (by name), and PEM private-key blocks (by content). `package`
//! refuses them and `audit` reports them, from this one definition.

/// Why a file must never be packaged, or `None` when its name is fine.
pub fn forbidden_reason(rel: &str) -> Option<&'static str> {
    let name = rel.rsplit('/').next().unwrap_or(rel).to_ascii_lowercase();
    // The two templates are documentation without a usable secret (the audit checks it);
    // any other `.env*` is an operator's real file.
    if name == ".env"
        || (name.starts_with(".env.") && name != ".env.example" && name != ".env.full.example")
    {
        return Some(
            "an environment file holds real secrets; ship .env.example / .env.full.example only",
        );
    }
    if ["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"]
        .iter()
        .any(|k| name.starts_with(k))
        && !name.ends_with(".pub")
    {
        return Some("an SSH private key");
    }
    if [
        ".pem",
        ".key",
        ".p12",
        ".pfx",
        ".jks",
        ".keystore",
        ".token",
    ]
    .iter()
    .any(|e| name.ends_with(e))
    {
        return Some("a private key, certificate bundle or token file");
    }
    if [
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        ".htpasswd",
        "credentials.json",
        "token",
    ]
    .contains(&name.as_str())
    {
        return Some("a credentials file");
    }
    None
}

/// True when `bytes` contains a PEM private key block.
pub fn has_private_key_block(bytes: &[u8]) -> bool {
    let hay = String::from_utf8_lossy(bytes);
    hay.match_indices("-----BEGIN ").any(|(i, _)| {
        let line = hay[i..].lines().next().unwrap_or("");
        line.contains("PRIVATE KEY-----")
    })
}
