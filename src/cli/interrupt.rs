//! Ctrl-C: a thread waits for SIGINT/SIGTERM, has the library remove the
//! temporary file being written (if any), says what happened and exits
//! with 130; or, for `tiersim serve`, whose normal end it is, with 0.

use std::sync::OnceLock;

use tiersim::render::atomic::abandon_partial_files;

/// Set while `tiersim serve` serves: Ctrl-C is then how it stops, so it
/// says this and exits 0.
static SERVING: OnceLock<String> = OnceLock::new();

/// Says that Ctrl-C now stops a server, with what to print when it does.
pub fn serving(message: String) {
    let _ = SERVING.set(message);
}

/// Installs the Ctrl-C (SIGINT) and SIGTERM handler of the command line.
pub fn on_interrupt_remove_partial_files() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
        // Without a handler the default applies: the process stops, and
        // temporary files may be left (never a half-written result file).
        return;
    };
    std::thread::spawn(move || {
        if signals.forever().next().is_some() {
            let done = abandon_partial_files();
            let mut msg = String::from("interrupted: ");
            if done.removed.is_empty() {
                msg.push_str("no file was being written");
            } else {
                let names: Vec<String> = done
                    .removed
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect();
                msg.push_str(&format!("removed the partly written {}", names.join(", ")));
            }
            if done.completed > 0 {
                msg.push_str(&format!(
                    "; the {} file(s) written before are complete",
                    done.completed
                ));
            }
            msg.push_str("; nothing half-written is left");
            if let Some(stopped) = SERVING.get() {
                if !done.removed.is_empty() {
                    eprintln!("{msg}");
                }
                eprintln!("{stopped}");
                std::process::exit(0);
            }
            eprintln!("{msg}");
            std::process::exit(130);
        }
    });
}
