//! `briefd init DIR`: the shipped, commented config and the folders it names, so a new user
//! starts from a config that explains every option.

use std::path::Path;

use anyhow::Context;

/// The config briefd ships, as the repository holds it.
const SHIPPED: &str = include_str!("../../../config.yaml");

/// The line of the shipped config that picks the model; `--no-model` turns it extractive.
const MODEL_METHOD: &str = "    method: model\n";

/// The start of the shipped config's sentence-encoder line; `--no-model` comments it out, so the
/// config needs no model file at all.
const ENCODER: &str = "    embeddings: ";

/// Writes `DIR/config.yaml` (never over an existing one) and makes its folders; returns what to
/// do next, for the terminal.
pub fn init(dir: &Path, with_model: bool) -> anyhow::Result<String> {
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let config_path = dir.join("config.yaml");
    let text = if with_model {
        SHIPPED.to_string()
    } else {
        SHIPPED.replacen(MODEL_METHOD, "    method: extractive\n", 1).replacen(
            ENCODER,
            "    # embeddings: ",
            1,
        )
    };
    let mut file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(&config_path)
        .with_context(|| format!("writing {} (init never replaces a config)", config_path.display()))?;
    std::io::Write::write_all(&mut file, text.as_bytes())
        .with_context(|| format!("writing {}", config_path.display()))?;
    // The folders as the config names them, resolved the way the daemon resolves them.
    let config = config::Config::from_yaml(&config_path, &text);
    let paths = match &config {
        Ok(c) => vec![
            c.paths.inbox.clone(),
            c.paths.archive.clone(),
            c.paths.failed.clone(),
            c.paths.briefings.clone(),
        ],
        Err(_) => ["inbox", "archive", "failed", "briefings"].iter().map(|p| dir.join(p)).collect(),
    };
    for folder in
        paths.iter().chain(std::iter::once(&dir.join("state"))).chain(std::iter::once(&dir.join("models")))
    {
        std::fs::create_dir_all(folder).with_context(|| format!("creating {}", folder.display()))?;
    }
    let mut out = format!("wrote {} and its folders\n", config_path.display());
    if let Err(e) = &config {
        // With the models: their files are not there yet (the config's own check names them).
        out.push_str(&format!(
            "\nNot ready yet: {e}\n\
             Fetch the models from a briefd checkout (models/fetch, models/fetch-minilm) and copy the\n\
             .gguf file and the all-MiniLM-L6-v2 folder into {}/,\n\
             or run `briefd init --no-model` in a new folder, which needs no model file.\n",
            dir.join("models").display(),
        ));
    }
    out.push_str(&format!(
        "\nNext:\n  briefd check-config -c {cfg}\n  briefd run -c {cfg}\n  then drop article files into {inbox} and open {index}\n",
        cfg = config_path.display(),
        inbox = dir.join("inbox").display(),
        index = dir.join("briefings/index.html").display(),
    ));
    Ok(out)
}
