package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sitevpn/sitevpn/internal/diag"
	"github.com/sitevpn/sitevpn/internal/testfleet"
)

// run runs the CLI in-process and returns stdout and the error as main
// would print it.
func run(t *testing.T, stdin string, args ...string) (string, string) {
	t.Helper()
	cmd := newRoot()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.Execute()
	if err == nil {
		return out.String(), ""
	}
	return out.String(), err.Error()
}

// configDir makes a config dir with the example fleet and gateway's lab key.
func configDir(t *testing.T, gateway string) string {
	t.Helper()
	dir := t.TempDir()
	src, err := testfleet.ExampleSource()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "fleet.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if gateway != "" {
		key, err := os.ReadFile(filepath.Join(testfleet.ExampleDir(), "lab-keys", gateway+".key"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "private.key"), key, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// secrets are every lab private key as text: none may ever be printed or
// rendered.
func secrets(t *testing.T) []string {
	keys, err := testfleet.LabKeys()
	if err != nil || len(keys) == 0 {
		t.Fatalf("lab keys: %v", err)
	}
	var s []string
	for _, k := range keys {
		s = append(s, k.String())
	}
	return s
}

func noSecret(t *testing.T, where, text string) {
	t.Helper()
	for _, s := range secrets(t) {
		if strings.Contains(text, s) {
			t.Errorf("%s contains a private key", where)
		}
	}
}

func TestRenderExampleFindsItselfByKey(t *testing.T) {
	cfg := configDir(t, "v1-1")
	out := t.TempDir()
	stdout, errText := run(t, "", "--config", cfg, "render", "--out", out)
	if errText != "" {
		t.Fatalf("render: %s", errText)
	}
	noSecret(t, "render's output", stdout)
	var table struct {
		Gateway string `json:"gateway"`
		Tunnels []struct {
			ListenPort int `json:"listen_port"`
		} `json:"tunnels"`
	}
	b, err := os.ReadFile(filepath.Join(out, "var/lib/sitevpn/tunnels.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &table); err != nil {
		t.Fatal(err)
	}
	if table.Gateway != "v1-1" || len(table.Tunnels) != 4 {
		t.Errorf("tunnel table: gateway %q with %d tunnels, want v1-1 with 4", table.Gateway, len(table.Tunnels))
	}
}

// TestNoSecretInRenderedTree renders every gateway in both modes with its
// private key in place and checks that no rendered file, in any mode,
// holds any private key, and that every file is readable only as its mode
// says.
func TestNoSecretInRenderedTree(t *testing.T) {
	for _, gw := range []string{"v1-1", "v1-2", "v2-1", "v2-2", "v3-1", "v3-2"} {
		for _, vrf := range []bool{false, true} {
			cfg := configDir(t, gw)
			if vrf {
				src, _ := os.ReadFile(filepath.Join(cfg, "fleet.hcl"))
				if err := os.WriteFile(filepath.Join(cfg, "fleet.hcl"), testfleet.VRFVariant(src), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			out := t.TempDir()
			stdout, errText := run(t, "", "--config", cfg, "render", "--out", out)
			if errText != "" {
				t.Fatalf("%s: %s", gw, errText)
			}
			noSecret(t, "render output", stdout)
			n := 0
			err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				b, err := os.ReadFile(p)
				if err != nil {
					return err
				}
				n++
				noSecret(t, p, string(b))
				return nil
			})
			if err != nil || n < 5 {
				t.Fatalf("walked %d files: %v", n, err)
			}
		}
	}
}

func TestNoMatchingKeyPrintsPublicKey(t *testing.T) {
	cfg := configDir(t, "")
	stdout, _ := run(t, "", "genkey", "--out", filepath.Join(cfg, "private.key"))
	noSecret(t, "genkey --out output", stdout)
	_, errText := run(t, "", "--config", cfg, "render", "--out", t.TempDir())
	pub, _ := run(t, "", "--config", cfg, "pubkey")
	if !strings.Contains(errText, "matches no gateway") || !strings.Contains(errText, strings.TrimSpace(pub)) || !strings.Contains(errText, "private.key") {
		t.Errorf("error should name this host's public key %q and the key file:\n%s", pub, errText)
	}
	key, _ := os.ReadFile(filepath.Join(cfg, "private.key"))
	if strings.Contains(errText, strings.TrimSpace(string(key))) {
		t.Error("the error prints the private key")
	}
	// --gateway overrides the key.
	if _, errText := run(t, "", "--config", cfg, "--gateway", "v2-2", "render", "--out", t.TempDir()); errText != "" {
		t.Errorf("--gateway v2-2: %s", errText)
	}
	if _, errText := run(t, "", "--config", cfg, "--gateway", "nope", "plan"); !strings.Contains(errText, `"nope"`) || !strings.Contains(errText, "v1-1") {
		t.Errorf("--gateway nope: %s", errText)
	}
}

func TestLooseKeyModeRefused(t *testing.T) {
	cfg := configDir(t, "v1-1")
	if err := os.Chmod(filepath.Join(cfg, "private.key"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, errText := run(t, "", "--config", cfg, "plan")
	if !strings.Contains(errText, "chmod 600") {
		t.Errorf("want a chmod hint, got %q", errText)
	}
	noSecret(t, "the error", errText)
}

func TestBadKeyFileNotQuoted(t *testing.T) {
	cfg := configDir(t, "")
	// A key with one character changed is still secret: never echo it.
	k := []byte(secrets(t)[0])
	k[5] = '!'
	if err := os.WriteFile(filepath.Join(cfg, "private.key"), k, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errText := run(t, "", "--config", cfg, "plan")
	if errText == "" || strings.Contains(errText, string(k[:20])) {
		t.Errorf("error must reject the key without quoting it: %q", errText)
	}
}

func TestValidate(t *testing.T) {
	cfg := configDir(t, "")
	out, errText := run(t, "", "--config", cfg, "validate")
	if errText != "" || !strings.Contains(out, "3 sites, 6 gateways") {
		t.Errorf("validate: %q %q", out, errText)
	}
	bad := filepath.Join(t.TempDir(), "ansible-tmp-file")
	src, _ := os.ReadFile(filepath.Join(cfg, "fleet.hcl"))
	if err := os.WriteFile(bad, bytes.Replace(src, []byte("asn      = 65002"), []byte("asn      = 65001"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := newRoot()
	cmd.SetArgs([]string{"validate", bad})
	cmd.SetOut(&bytes.Buffer{})
	err := cmd.Execute()
	var de *diag.Error
	if !errors.As(err, &de) || !strings.Contains(err.Error(), bad+":") || !strings.Contains(err.Error(), "Duplicate asn") {
		t.Errorf("validate FILE: want a diagnostic at %s, got %v", bad, err)
	}
}

func TestGenkeyPubkey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "private.key")
	if _, errText := run(t, "", "genkey", "--out", path); errText != "" {
		t.Fatal(errText)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v mode %v, want 0600", err, st.Mode())
	}
	before, _ := os.ReadFile(path)
	if _, errText := run(t, "", "genkey", "--out", path); !strings.Contains(errText, "not overwriting") {
		t.Errorf("second genkey --out: %q", errText)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("genkey --out overwrote an existing key")
	}
	fromFile, _ := run(t, "", "--config", dir, "pubkey")
	fromStdin, _ := run(t, string(before), "pubkey")
	// With --config, stdin is not read: a pipe that never closes would
	// block forever.
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetIn(unreadable{t})
	root.SetArgs([]string{"--config", dir, "pubkey"})
	if err := root.Execute(); err != nil || out.String() != fromFile {
		t.Errorf("pubkey with --config and a pipe: %q, %v; want %q", out.String(), err, fromFile)
	}
	if fromFile == "" || fromFile != fromStdin || strings.Contains(fromFile, strings.TrimSpace(string(before))) {
		t.Errorf("pubkey from file %q, from stdin %q", fromFile, fromStdin)
	}
	// The lab key of v1-1 has the public key the example fleet lists.
	lab, _ := os.ReadFile(filepath.Join(testfleet.ExampleDir(), "lab-keys", "v1-1.key"))
	if pub, _ := run(t, string(lab), "pubkey"); strings.TrimSpace(pub) != "ll5iJo0Skv/z4AhZUn7jc1QYcsw0Co8CP//gAIgPsDM=" {
		t.Errorf("pubkey of v1-1's key = %q", pub)
	}
}

func TestPlan(t *testing.T) {
	cfg := configDir(t, "v1-1")
	root := t.TempDir()
	out, errText := run(t, "", "--config", cfg, "--root", root, "plan", "--json")
	if errText != "" {
		t.Fatal(errText)
	}
	var p struct {
		Tunnels []json.RawMessage `json:"tunnels"`
		Actions []struct{ Kind, Target string }
	}
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(p.Tunnels) != 4 || len(p.Actions) == 0 || p.Actions[0].Kind != "write" {
		t.Errorf("plan on an empty root: %d tunnels, actions %v", len(p.Tunnels), p.Actions)
	}
	// With the files in place, nothing is left to do.
	if _, errText := run(t, "", "--config", cfg, "render", "--out", root); errText != "" {
		t.Fatal(errText)
	}
	out, _ = run(t, "", "--config", cfg, "--root", root, "plan")
	if !strings.Contains(out, "no changes") || !strings.Contains(out, "wg6") {
		t.Errorf("plan after render:\n%s", out)
	}
}

func TestHelpForEveryCommand(t *testing.T) {
	for _, c := range newRoot().Commands() {
		out, errText := run(t, "", c.Name(), "--help")
		if errText != "" || !strings.Contains(out, "--config") {
			t.Errorf("%s --help: %q %q", c.Name(), out, errText)
		}
	}
}

// unreadable is a stdin that must not be read: a pipe that never closes.
type unreadable struct{ t *testing.T }

func (u unreadable) Read([]byte) (int, error) {
	u.t.Error("stdin was read")
	return 0, io.EOF
}

// verify exits 0 on the article's mesh of two-gateway sites, 2 on the
// hub-and-spoke example (its branches have one gateway each), 1 on invalid
// files; validate prints the same findings as warnings and exits 0.
func TestVerifyExitCodes(t *testing.T) {
	hubs := t.TempDir()
	src, err := testfleet.HubAndSpokeSource()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(hubs, "fleet.hcl"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	invalid := t.TempDir()
	if err := os.WriteFile(filepath.Join(invalid, "fleet.hcl"), bytes.Replace(src, []byte("asn      = 65002"), []byte("asn      = 65001"), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dir, want, exit string
	}{
		{configDir(t, ""), "ok: no single failure", ""},
		{hubs, `fleet.hcl:84:1: warning: Single point of failure: gateway "s1-1" is the only gateway of site "shop-lyon"`, "exit status 2"},
		{invalid, "", "Duplicate asn"},
	} {
		out, errText := run(t, "", "--config", c.dir, "verify")
		if !strings.Contains(out, c.want) || c.exit == "" && errText != "" || !strings.Contains(errText, c.exit) {
			t.Errorf("verify on %s: %q, %q; want %q, %q", c.dir, out, errText, c.want, c.exit)
		}
	}
	out, errText := run(t, "", "--config", hubs, "verify", "--json")
	var rep struct {
		Findings []struct{ At string }
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil || errText != "exit status 2" || len(rep.Findings) != 4 || rep.Findings[0].At != filepath.Join(hubs, "fleet.hcl")+":84:1" {
		t.Errorf("verify --json: %v %q %+v", err, errText, rep)
	}
	out, errText = run(t, "", "--config", hubs, "validate")
	if errText != "" || !strings.Contains(out, "warning: Single point of failure") || !strings.Contains(out, "ok: 6 sites, 8 gateways") {
		t.Errorf("validate: %q %q", out, errText)
	}
}
