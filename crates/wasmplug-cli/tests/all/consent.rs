//! The three parties on the command line: the plugin's manifest requests,
//! the operator's policy file caps, the person at the terminal grants with
//! flags, is asked about the rest, and is remembered.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use wasmplug_tests::staged;

use super::{assert_success, command, isolate, stderr, stdout};

/// A hostile plugin whose manifest asks for `LANG`, with its own grants
/// file, cache and (unless given) no policy.
struct Case {
    dir: tempfile::TempDir,
    plugin: PathBuf,
}

impl Case {
    fn new(permissions: &str) -> Self {
        let manifest = format!(
            "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n\n[permissions]\n{permissions}\n"
        );
        let (dir, plugin) = staged("hostile", Some(&manifest));
        Case { dir, plugin }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Gives `command` this case's grants file and cache, and LANG.
    fn setup<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command
            .env("WASMPLUG_GRANTS", self.path("grants.toml"))
            .env("WASMPLUG_CACHE_DIR", self.path("cache"))
            .env("LANG", "en_GB.UTF-8")
    }

    fn command(&self) -> Command {
        let mut command = command();
        self.setup(&mut command);
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .output()
            .expect("running wasmplug")
    }

    /// `wasmplug call [OPTIONS] PLUGIN run "COMMAND"`.
    fn call(&self, options: &[&str], command: &str) -> Output {
        let argument = format!("\"{command}\"");
        let mut args = vec!["call"];
        args.extend_from_slice(options);
        args.extend([path(&self.plugin), "run", &argument]);
        self.run(&args)
    }

    /// The same call on a terminal (through `script`), answering `answers`.
    fn call_on_a_terminal(&self, command: &str, answers: &str) -> Output {
        let line = format!(
            "{} call {} run '\"{command}\"'",
            env!("CARGO_BIN_EXE_wasmplug"),
            path(&self.plugin)
        );
        let mut script = Command::new("script");
        isolate(&mut script);
        let mut child = self
            .setup(&mut script)
            .args(["-q", "-e", "-c", &line, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("running script");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answers.as_bytes())
            .unwrap();
        child.wait_with_output().unwrap()
    }

    fn cached_entries(&self) -> usize {
        walk(&self.path("cache"))
    }
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let path = e.path();
                if path.is_dir() { walk(&path) } else { 1 }
            })
            .sum()
    })
}

fn path(p: &Path) -> &str {
    p.to_str().expect("test paths are UTF-8")
}

const LANG: &str = r#"env = [{ name = "LANG", reason = "greets in your language" }]"#;

#[test]
fn without_a_terminal_missing_consent_stops_before_anything_runs() {
    let case = Case::new(LANG);
    let output = case.call(&[], "env LANG");
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let err = stderr(&output);
    let line = err.lines().find(|l| l.starts_with("error:")).unwrap_or("");
    assert!(
        line.contains("needs consent to env LANG (greets in your language)"),
        "{err}"
    );
    assert!(line.contains("env LANG: --env LANG"), "{err}");
    assert!(line.contains("--yes"), "{err}");
    assert_eq!(stdout(&output), "", "nothing ran");
    assert_eq!(case.cached_entries(), 0, "nothing was compiled");

    // A flag is the terminal's explicit grant.
    let output = case.call(&["--env", "LANG"], "env LANG");
    assert_success("--env", &output);
    assert_eq!(stdout(&output).trim(), r#"ok("en_GB.UTF-8")"#);

    // --yes consents for this run only.
    let output = case.call(&["--yes"], "env LANG");
    assert_success("--yes", &output);
    assert_eq!(stdout(&output).trim(), r#"ok("en_GB.UTF-8")"#);
    assert!(
        !case.path("grants.toml").exists(),
        "--yes is not remembered"
    );
    assert_eq!(case.call(&[], "env LANG").status.code(), Some(1));
}

#[test]
fn consent_given_at_the_terminal_is_remembered_until_revoked() {
    let case = Case::new(LANG);
    let output = case.call_on_a_terminal("env LANG", "y\n");
    let text = stdout(&output);
    assert!(text.contains("hostile 0.1.0"), "{text}");
    assert!(text.contains("env LANG"), "{text}");
    assert!(text.contains("because: greets in your language"), "{text}");
    assert!(text.contains(r#"ok("en_GB.UTF-8")"#), "{text}");

    // Remembered: no terminal is needed the next time.
    let output = case.call(&[], "env LANG");
    assert_success("remembered", &output);
    let listed = case.run(&["grants"]);
    assert_success("grants", &listed);
    assert!(
        stdout(&listed).contains("hostile 0.1.0"),
        "{}",
        stdout(&listed)
    );
    assert!(
        stdout(&listed).contains("  env LANG"),
        "{}",
        stdout(&listed)
    );

    let revoked = case.run(&["grants", "revoke", "hostile@0.1.0"]);
    assert_success("revoke", &revoked);
    assert_eq!(case.call(&[], "env LANG").status.code(), Some(1));
    let again = case.run(&["grants", "revoke", "hostile"]);
    assert_eq!(again.status.code(), Some(1), "nothing left to revoke");
}

#[test]
fn consent_refused_at_the_terminal_runs_without_it() {
    let case = Case::new(LANG);
    let output = case.call_on_a_terminal("env LANG", "n\n");
    let text = stdout(&output);
    assert!(text.contains("LANG not present"), "{text}");
    assert!(text.contains("refused by the user"), "{text}");
}

#[test]
fn a_request_above_the_policy_is_refused_and_never_asked() {
    let case = Case::new(LANG);
    std::fs::write(case.path("policy.toml"), "[allow]\nenv = [\"TZ\"]\n").unwrap();
    let policy = case.path("policy.toml");
    // Even the terminal's own flag cannot grant past the policy.
    let output = case.call(&["--policy", path(&policy), "--env", "LANG"], "env LANG");
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(err.contains("refused by the operator's policy"), "{err}");
    assert!(err.contains("allows only env TZ"), "{err}");
    assert!(!err.contains("needs consent"), "never asked: {err}");
    assert!(stdout(&output).is_empty());
    assert!(
        err.contains("LANG not present"),
        "the guest ran without it: {err}"
    );

    let broken = case.path("broken.toml");
    std::fs::write(&broken, "[allow]\nenv = \"TZ\"\n").unwrap();
    let output = case.call(&["--policy", path(&broken)], "echo x");
    let err = stderr(&output);
    assert!(err.contains("broken.toml: line 2"), "{err}");
}

#[test]
fn a_changed_plugin_is_asked_only_for_what_it_adds() {
    let case = Case::new(LANG);
    assert!(case.call_on_a_terminal("echo", "y\n").status.success());
    // A new version asking for more: only the addition is asked.
    let grown = format!(
        "[plugin]\nname = \"hostile\"\nversion = \"0.2.0\"\n\n[permissions]\n{LANG}\n\
         net = [{{ host = \"localhost:80\", reason = \"syncs its notes\" }}]\n"
    );
    std::fs::write(case.path("plugin.toml"), grown).unwrap();
    let output = case.call(&[], "echo x");
    let err = stderr(&output);
    assert!(err.contains("needs consent to net localhost:80"), "{err}");
    assert!(
        !err.contains("env LANG ("),
        "LANG was consented to before: {err}"
    );
    let output = case.call_on_a_terminal("echo grown", "y\n");
    let text = stdout(&output);
    assert!(text.contains("asks for more than hostile 0.1.0"), "{text}");
    assert!(text.contains(r#"ok("grown")"#), "{text}");
    assert_success("remembered", &case.call(&[], "echo again"));
}

#[test]
fn check_shows_a_plugins_text_escaped() {
    let case =
        Case::new(r#"env = [{ name = "LANG", reason = "reads\nerror: forged line\u001b[2J" }]"#);
    let output = case.run(&["check", "--env", "LANG", path(&case.plugin)]);
    assert_success("check", &output);
    let text = stdout(&output);
    assert!(!text.contains('\u{1b}'), "{text:?}");
    assert!(
        !text.lines().any(|l| l.starts_with("error: forged")),
        "{text}"
    );
    assert!(
        text.contains("reads\\nerror: forged line\\u{1b}[2J"),
        "{text}"
    );
}

#[test]
fn a_manifest_asks_for_less_than_the_defaults_never_more() {
    let case = Case::new("");
    let manifest = "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\n\
                    [limits]\nmemory = \"4GiB\"\ntimeout = \"1h\"\n";
    std::fs::write(case.path("plugin.toml"), manifest).unwrap();
    let output = case.run(&["check", path(&case.plugin)]);
    assert_success("check", &output);
    assert!(
        stdout(&output).contains("memory 256 MiB, cpu 5s, timeout 10s"),
        "{}",
        stdout(&output)
    );
    let output = case.run(&["check", "--max-memory", "1GiB", path(&case.plugin)]);
    assert!(
        stdout(&output).contains("memory 1024 MiB"),
        "{}",
        stdout(&output)
    );
}

#[test]
fn check_refuses_a_world_name_that_does_not_parse() {
    let case = Case::new("");
    let manifest = "[plugin]\nname = \"hostile\"\nversion = \"0.1.0\"\nworld = \"my world\"\n";
    std::fs::write(case.path("plugin.toml"), manifest).unwrap();
    let output = case.run(&["check", path(&case.plugin)]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        stderr(&output).contains("not a world name"),
        "{}",
        stderr(&output)
    );
}
