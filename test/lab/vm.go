//go:build lab

package lab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// NIC is one virtio-net interface of a VM, on one segment. Inside the guest
// its name depends on the PCI slot, so networkd files match on the MAC.
type NIC struct {
	Segment *Segment
	MAC     net.HardwareAddr
}

// VM is one QEMU virtual machine of a lab run.
type VM struct {
	Name    string
	Dir     string // disk overlay, sockets, console.log, qemu.pid
	Share   string // host side of the guest's /mnt/host (9p), read-write both ways
	Overlay string // Share/overlay: copied onto the guest's / at boot, before networkd
	NICs    []NIC
	// SSHPort is the host's 127.0.0.1 port forwarded to the guest's port 22
	// (ForwardSSH), 0 without one.
	SSHPort int

	forwards map[int]int // guest TCP port -> host port (Forward)
	lab      *Lab
	num      int          // 1-based order in the lab: the MACs' fifth byte
	agent    sync.Mutex   // held over a guest agent session: its socket takes one client at a time
	pid      atomic.Int64 // of the running QEMU, 0 before Start
}

// NewVM declares a VM with one NIC per segment, in order. MACs are
// 52:54:00:00:<vm number>:<nic number> (both from 1), so tests can write
// networkd files for them before boot. Nothing runs until Start.
func (l *Lab) NewVM(name string, segments ...*Segment) (*VM, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := len(l.vms) + 1
	if n > 255 || len(segments) > 255 {
		return nil, fmt.Errorf("lab: too many VMs or NICs")
	}
	for _, vm := range l.vms {
		if vm.Name == name {
			return nil, fmt.Errorf("lab: two VMs named %q", name)
		}
	}
	dir := filepath.Join(l.Dir, name)
	vm := &VM{Name: name, Dir: dir, Share: filepath.Join(dir, "share"), lab: l, num: n}
	vm.Overlay = filepath.Join(vm.Share, "overlay")
	for i, s := range segments {
		mac := net.HardwareAddr{0x52, 0x54, 0x00, 0x00, byte(n), byte(i + 1)}
		vm.NICs = append(vm.NICs, NIC{Segment: s, MAC: mac})
	}
	// 0755 whatever the umask: the overlay directory's mode lands on the guest's /.
	if err := os.MkdirAll(vm.Overlay, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(vm.Overlay, 0o755); err != nil {
		return nil, err
	}
	l.vms = append(l.vms, vm)
	return vm, nil
}

// WriteFile puts a file into the overlay, at its path inside the guest
// (e.g. "/etc/sitevpn/private.key"), with exactly mode. Written before Start,
// it is in place when networkd starts.
//
// The guest copies the overlay with cp -a, so every overlay directory's mode
// lands on the guest's directory of the same path: they are all made 0755,
// whatever the umask (a test that needs another mode chmods under Overlay).
func (vm *VM) WriteFile(guestPath string, data []byte, mode os.FileMode) error {
	guestPath = filepath.Clean("/" + guestPath) // no ".." out of the overlay
	dir := vm.Overlay
	for _, part := range strings.Split(filepath.Dir(guestPath), "/") {
		if part == "" {
			continue
		}
		dir = filepath.Join(dir, part)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return err
		}
		if err := os.Chmod(dir, 0o755); err != nil {
			return err
		}
	}
	p := filepath.Join(vm.Overlay, guestPath)
	if err := os.WriteFile(p, data, mode); err != nil {
		return err
	}
	return os.Chmod(p, mode) // WriteFile's mode is filtered by the umask
}

// CopyFile copies a host file (a binary, a package under test) into the
// overlay, like WriteFile.
func (vm *VM) CopyFile(hostPath, guestPath string, mode os.FileMode) error {
	data, err := os.ReadFile(hostPath)
	if err != nil {
		return err
	}
	return vm.WriteFile(guestPath, data, mode)
}

// WriteNetwork writes /etc/systemd/network/<name>.network for NIC nic
// (0-based): a [Match] on its MAC, then body (the [Network] section etc.).
func (vm *VM) WriteNetwork(nic int, name, body string) error {
	unit := fmt.Sprintf("[Match]\nMACAddress=%s\n\n%s", vm.NICs[nic].MAC, body)
	return vm.WriteFile("/etc/systemd/network/"+name+".network", []byte(unit), 0o644)
}

// ForwardSSH forwards a host port to the guest's port 22 (Forward), so
// tools on the host (ssh, Ansible) reach the VM; the port is vm.SSHPort.
// sshd itself stays off until the test starts it (systemctl start ssh).
func (vm *VM) ForwardSSH() error {
	if vm.SSHPort != 0 {
		return fmt.Errorf("%s: ForwardSSH called twice", vm.Name)
	}
	port, err := vm.Forward(22)
	vm.SSHPort = port
	return err
}

// Forward forwards a free port of the host's 127.0.0.1 to the guest's TCP
// port guestPort, which it returns, through one more NIC: a QEMU user-mode
// one (slirp, restrict=on: it reaches nothing, not the host, not the
// internet), the guest's 10.0.2.15/24, whose only use is such forwards. A
// VM otherwise lives on multicast segments the host is not on. Call it
// before Start: the first call writes the NIC's networkd file into the
// overlay. The NIC comes after the segment NICs, so their names do not
// move.
func (vm *VM) Forward(guestPort int) (int, error) {
	if _, dup := vm.forwards[guestPort]; dup {
		return 0, fmt.Errorf("%s: port %d forwarded twice", vm.Name, guestPort)
	}
	// A port free now; nothing else on this host binds ports in this range
	// on purpose, and QEMU fails loudly if it was taken meanwhile.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	if vm.forwards == nil {
		unit := fmt.Sprintf("[Match]\nMACAddress=%s\n\n[Network]\nAddress=10.0.2.15/24\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n", vm.forwardMAC())
		if err := vm.WriteFile("/etc/systemd/network/05-lab-forward.network", []byte(unit), 0o644); err != nil {
			return 0, err
		}
		vm.forwards = map[int]int{}
	}
	vm.forwards[guestPort] = port
	return port, nil
}

// forwardMAC is the Forward NIC's MAC: 52:54:00:ff:<vm number>:01, apart
// from the segment NICs' 52:54:00:00:<vm>:<nic>.
func (vm *VM) forwardMAC() net.HardwareAddr {
	return net.HardwareAddr{0x52, 0x54, 0x00, 0xff, byte(vm.num), 0x01}
}

func (vm *VM) path(name string) string { return filepath.Join(vm.Dir, name) }

// Start creates the VM's disk overlay and starts QEMU in the background. It
// returns once QEMU runs; the guest boots for tens of seconds after that:
// WaitAgent waits for it.
func (vm *VM) Start(ctx context.Context) error {
	return vm.start(ctx, true)
}

// Restart boots the VM again on the same disk, as a machine powered on
// after a reboot or a power cut: what the guest wrote is still there. QEMU
// runs with -no-reboot, so an in-guest reboot ends QEMU; Restart first
// waits (up to 2 minutes) for that, then starts it again. The previous
// console is kept as console.log.1 (the evidence of the shutdown). It boots
// at nice bootNice until its agent answers.
func (vm *VM) Restart(ctx context.Context) error {
	if err := WaitFor(ctx, 2*time.Minute, vm.Name+" QEMU exit", func(context.Context) error {
		if vm.Running() {
			return errors.New("still running")
		}
		return nil
	}); err != nil {
		return err
	}
	os.Rename(vm.path("console.log"), vm.path("console.log.1"))
	return vm.start(ctx, false)
}

// Kill ends QEMU with SIGKILL: a power cut, no shutdown of any kind.
func (vm *VM) Kill() error {
	pid := int(vm.pid.Load())
	if !vm.Running() {
		return fmt.Errorf("%s: not running", vm.Name)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("%s: kill %d: %w", vm.Name, pid, err)
	}
	return WaitFor(context.Background(), 10*time.Second, vm.Name+" killed", func(context.Context) error {
		if vm.Running() {
			return errors.New("still running")
		}
		return nil
	})
}

// SetLink sets the carrier of NIC nic (0-based) up or down, as seen by
// this guest: a cable plugged or pulled (multicast segments have no
// carrier of their own, so a dead VM's neighbours would never notice).
func (vm *VM) SetLink(nic int, up bool) error {
	state := "off"
	if up {
		state = "on"
	}
	return vm.monitor(fmt.Sprintf("set_link n%d %s", nic, state))
}

// kernelArgs trims an emulated boot: no speculation mitigations (the guest
// runs only the lab), no clocksource watchdog (a stalled guest must not
// fall back from the TSC to a slower clock), no crypto self-tests, and only
// warnings on the console, which stays the evidence of a failure.
const kernelArgs = "console=ttyS0 root=/dev/vda rw quiet mitigations=off tsc=reliable no_timer_check cryptomgr.notests"

func (vm *VM) start(ctx context.Context, fresh bool) error {
	if vm.Running() {
		return fmt.Errorf("%s: already running", vm.Name)
	}
	img := vm.lab.Image
	disk := vm.path("disk.qcow2")
	if fresh {
		os.Remove(disk) // a fresh disk on every start: state comes from the overlay
		if out, err := exec.CommandContext(ctx, "qemu-img", "create", "-q", "-f", "qcow2",
			"-b", img.Disk, "-F", "raw", disk).CombinedOutput(); err != nil {
			return fmt.Errorf("%s: qemu-img: %w: %s", vm.Name, err, out)
		}
		os.Remove(vm.path("console.log"))
	}
	args := []string{
		"-name", vm.Name,
		// /dev/kvm is there but unusable here (nested, no vmx/svm): emulate.
		"-accel", "tcg,thread=multi,tb-size=128", "-cpu", "max", "-m", "512", "-smp", "1",
		"-nodefaults", "-display", "none", "-no-reboot",
		"-kernel", img.Kernel, "-initrd", img.Initrd,
		"-append", kernelArgs + " systemd.hostname=" + vm.Name,
		"-drive", "file=" + disk + ",if=virtio,format=qcow2,cache=unsafe",
		"-virtfs", "local,path=" + vm.Share + ",mount_tag=host0,security_model=passthrough,id=host0",
		"-device", "virtio-rng-pci",
	}
	for i, nic := range vm.NICs {
		id := "n" + strconv.Itoa(i)
		args = append(args, "-netdev", nic.Segment.netdev(id),
			"-device", "virtio-net-pci,netdev="+id+",mac="+nic.MAC.String())
	}
	if len(vm.forwards) > 0 {
		netdev := "user,id=fwd0,restrict=on"
		for _, guest := range slices.Sorted(maps.Keys(vm.forwards)) {
			netdev += fmt.Sprintf(",hostfwd=tcp:127.0.0.1:%d-:%d", vm.forwards[guest], guest)
		}
		args = append(args, "-netdev", netdev, "-device", "virtio-net-pci,netdev=fwd0,mac="+vm.forwardMAC().String())
	}
	args = append(args,
		"-chardev", "socket,id=qga0,path="+vm.path("qga.sock")+",server=on,wait=off",
		"-device", "virtio-serial-pci",
		"-device", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0",
		"-monitor", "unix:"+vm.path("mon.sock")+",server=on,wait=off",
		"-serial", "file:"+vm.path("console.log"),
		"-pidfile", vm.path("qemu.pid"),
		"-daemonize",
	)
	argv := append([]string{"qemu-system-x86_64"}, args...)
	if !fresh {
		argv = append([]string{"nice", "-n", strconv.Itoa(bootNice)}, argv...)
	}
	if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s: qemu: %w: %s", vm.Name, err, out)
	}
	b, err := os.ReadFile(vm.path("qemu.pid"))
	if err != nil {
		return fmt.Errorf("%s: %w", vm.Name, err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return fmt.Errorf("%s: qemu.pid: %w", vm.Name, err)
	}
	// QEMU deletes its pidfile on exit; the copy lets a later run reap a VM
	// that a killed test left behind.
	if err := os.WriteFile(vm.path("qemu.pid.copy"), b, 0o644); err != nil {
		return err
	}
	vm.pid.Store(int64(pid))
	return nil
}

// Running reports whether this VM's QEMU process is alive.
func (vm *VM) Running() bool {
	pid := int(vm.pid.Load())
	return pid != 0 && isQEMU(pid, vm.Dir)
}

// isQEMU reports whether pid is a live (not zombie) QEMU of the VM in dir:
// a bare pid could have been reused since.
func isQEMU(pid int, dir string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the ")" that ends the command name.
	if i := strings.LastIndexByte(string(stat), ')'); i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' {
		return false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && strings.Contains(string(cmdline), dir+"/qga.sock")
}

// agentSilence is how long Exec waits for a guest agent that stopped
// answering while its command runs: minutes under emulation when eight
// guests install packages at once.
const agentSilence = 3 * time.Minute

// Exec runs argv in the guest through the guest agent (0.04-0.13 s of
// overhead a call, measured) and returns its output. A non-zero exit is an *ExitError
// that carries the output; the Result is returned either way.
func (vm *VM) Exec(ctx context.Context, argv ...string) (Result, error) {
	vm.agent.Lock()
	defer vm.agent.Unlock()
	cmd := strings.Join(argv, " ")
	q, err := dialQGA(ctx, vm.path("qga.sock"))
	if err != nil {
		return Result{}, fmt.Errorf("%s: guest agent: %w", vm.Name, err)
	}
	defer func() {
		if q != nil {
			q.Close()
		}
	}()
	pid, err := q.start(argv)
	if err != nil {
		return Result{}, fmt.Errorf("%s: %s: %w", vm.Name, cmd, err)
	}
	// Poll until the command ends. When the agent misses a round trip's
	// deadline, the command runs on: ask again on a new session (the old
	// one may still deliver the late reply), for as long as the agent
	// stays silent less than agentSilence.
	var res Result
	interval := 20 * time.Millisecond
	answered := time.Now()
	retry := func(err error) bool {
		return timedOut(err) && time.Since(answered) < agentSilence && ctx.Err() == nil
	}
	for {
		if q == nil {
			if q, err = dialQGA(ctx, vm.path("qga.sock")); err != nil {
				q = nil
				if retry(err) {
					continue
				}
				return Result{}, fmt.Errorf("%s: %s: guest agent silent since %s: %w", vm.Name, cmd, answered.Format(time.TimeOnly), err)
			}
		}
		r, done, err := q.status(pid)
		if err != nil {
			q.Close()
			q = nil
			if retry(err) {
				continue
			}
			return Result{}, fmt.Errorf("%s: %s: %w", vm.Name, cmd, err)
		}
		answered = time.Now()
		if done {
			res = r
			break
		}
		select {
		case <-ctx.Done():
			return Result{}, fmt.Errorf("%s: %s: guest pid %d still running: %w", vm.Name, cmd, pid, ctx.Err())
		case <-time.After(interval):
		}
		interval = min(2*interval, 200*time.Millisecond)
	}
	if res.ExitCode != 0 {
		return res, &ExitError{Cmd: vm.Name + ": " + strings.Join(argv, " "), Result: res}
	}
	return res, nil
}

// ReadFile reads a guest file (up to 1 MiB) through the guest agent,
// without starting a process in the guest.
func (vm *VM) ReadFile(ctx context.Context, path string) ([]byte, error) {
	vm.agent.Lock()
	defer vm.agent.Unlock()
	q, err := dialQGA(ctx, vm.path("qga.sock"))
	if err != nil {
		return nil, fmt.Errorf("%s: guest agent: %w", vm.Name, err)
	}
	defer q.Close()
	b, err := q.readFile(path, 1<<20)
	if err != nil {
		return nil, fmt.Errorf("%s: reading %s: %w", vm.Name, path, err)
	}
	return b, nil
}

// Sh runs a shell script in the guest, like Exec.
func (vm *VM) Sh(ctx context.Context, script string) (Result, error) {
	return vm.Exec(ctx, "/bin/sh", "-c", script)
}

// WaitFor polls cond like the package's WaitFor, gives up at once if QEMU
// died, and puts the console's tail before the error: what the guest was
// doing is the evidence.
func (vm *VM) WaitFor(ctx context.Context, timeout time.Duration, what string, cond func(context.Context) error) error {
	err := WaitFor(ctx, timeout, vm.Name+": "+what, func(ctx context.Context) error {
		if !vm.Running() {
			return Abort(errors.New("qemu is not running"))
		}
		return cond(ctx)
	})
	if err != nil {
		// The console first: what failed is then the last line of a
		// test's failure, where a log's tail shows it.
		return fmt.Errorf("\n--- %[1]s console (last 40 lines) ---\n%[2]s\n--- end of %[1]s's console ---\n%[3]w", vm.Name, vm.ConsoleTail(40), err)
	}
	return nil
}

// WaitAgent waits until the guest agent answers, i.e. the guest has booted
// far enough to run commands. Each try holds its guest-sync open (QEMU
// keeps it until the agent starts and answers it), so the answer comes as
// soon as the agent runs; WaitFor would sleep twice each try's wait.
func (vm *VM) WaitAgent(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	for {
		err := vm.syncAgent(ctx, 15*time.Second)
		if err == nil {
			return vm.renice(0)
		}
		if !vm.Running() {
			err = errors.New("qemu is not running")
		} else if ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond):
				continue
			}
		}
		return fmt.Errorf("\n--- %[1]s console (last 40 lines) ---\n%[2]s\n--- end of %[1]s's console ---\n%[1]s: waiting for the guest agent: gave up after %[3]s: %[4]w",
			vm.Name, vm.ConsoleTail(40), time.Since(start).Round(time.Millisecond), err)
	}
}

// bootNice is the nice value a VM boots at when Restart starts it: an
// emulated boot takes a whole core, and the VMs that carry a scenario's
// traffic, and the routers that measure it, must not wait behind it.
// WaitAgent sets the VM back to 0 once its agent answers.
const bootNice = 10

// renice sets the nice value of every thread of the VM's QEMU (Linux keeps
// one per thread).
func (vm *VM) renice(n int) error {
	pid := int(vm.pid.Load())
	tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		return fmt.Errorf("%s: renice: %w", vm.Name, err)
	}
	for _, task := range tasks {
		tid, err := strconv.Atoi(task.Name())
		if err != nil {
			continue
		}
		// A thread that ended meanwhile is no error.
		if err := syscall.Setpriority(syscall.PRIO_PROCESS, tid, n); err != nil && !errors.Is(err, syscall.ESRCH) {
			return fmt.Errorf("%s: renice thread %d to %d: %w", vm.Name, tid, n, err)
		}
	}
	return nil
}

// syncAgent is one guest-sync with the agent, within wait.
func (vm *VM) syncAgent(ctx context.Context, wait time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	vm.agent.Lock()
	defer vm.agent.Unlock()
	q, err := dialQGA(ctx, vm.path("qga.sock"))
	if err != nil {
		return err
	}
	return q.Close()
}

// WaitExec waits until argv exits 0 in the guest; the error carries the last
// output.
func (vm *VM) WaitExec(ctx context.Context, timeout time.Duration, argv ...string) error {
	return vm.WaitFor(ctx, timeout, strings.Join(argv, " "), func(ctx context.Context) error {
		_, err := vm.Exec(ctx, argv...)
		return err
	})
}

// consoleNoise matches the color codes and carriage returns of the serial
// console: they only garble a test log.
var consoleNoise = regexp.MustCompile(`\x1b\[[0-9;]*m|\r`)

// ConsoleTail returns the last n lines of the serial console, cleaned.
func (vm *VM) ConsoleTail(n int) string { return vm.consoleTail("console.log", n) }

// PreviousConsoleTail is ConsoleTail of the boot before the last Restart:
// its shutdown.
func (vm *VM) PreviousConsoleTail(n int) string { return vm.consoleTail("console.log.1", n) }

func (vm *VM) consoleTail(name string, n int) string {
	b, err := os.ReadFile(vm.path(name))
	if err != nil {
		return "(no console: " + err.Error() + ")"
	}
	return tail(consoleNoise.ReplaceAllString(string(b), ""), n)
}

// Stop asks the guest to power off (system_powerdown on the monitor) and
// kills QEMU if it has not exited within 20 s or when ctx ends.
func (vm *VM) Stop(ctx context.Context) error {
	if !vm.Running() {
		return nil
	}
	if vm.monitor("system_powerdown") == nil && WaitFor(ctx, 20*time.Second, vm.Name+" power off", func(context.Context) error {
		if vm.Running() {
			return errors.New("still running")
		}
		return nil
	}) == nil {
		return nil
	}
	pid := int(vm.pid.Load())
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("%s: kill %d: %w", vm.Name, pid, err)
	}
	return nil
}

// monitor sends one command to the human monitor and waits for the prompt
// that follows it, so the command ran before the connection closes.
func (vm *VM) monitor(cmd string) error {
	conn, err := net.DialTimeout("unix", vm.path("mon.sock"), time.Second)
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(2 * time.Second))
	if _, err := conn.Write([]byte(cmd + "\n")); err != nil {
		return err
	}
	var seen []byte
	buf := make([]byte, 512)
	for strings.Count(string(seen), "(qemu)") < 2 {
		n, err := conn.Read(buf)
		if err != nil {
			return fmt.Errorf("monitor %s: %w (read %q)", cmd, err, seen)
		}
		seen = append(seen, buf[:n]...)
	}
	return nil
}
