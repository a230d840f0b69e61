// Package systemd is sitevpn's boundary with systemd: a Manager that
// reloads systemd and networkd and restarts or stops units over D-Bus, and
// a Notifier that speaks the sd_notify protocol for the daemon.
//
// Manager is a thin wrapper over go-systemd's dbus package (systemd's
// org.freedesktop.systemd1 API) plus one godbus call for networkd
// (org.freedesktop.network1), which go-systemd does not cover. Its unit
// methods wait for the job systemd queued and turn any result other than
// "done" into an error, so "the call returned nil" means "the unit is
// running (or stopped) now", not "systemd accepted the request".
//
// The apply engine declares the interface it needs; *Manager satisfies
// this part of it (checked in manager_test.go against a copy, since apply
// sits above this package):
//
//	type Units interface {
//		DaemonReload(ctx context.Context) error
//		RestartUnit(ctx context.Context, name string) error
//		StopUnit(ctx context.Context, name string) error
//		ReloadNetworkd(ctx context.Context) error
//	}
//
// apply.Units also has StartUnit and ActiveState, which Manager has too,
// so a *Manager is an apply.Units as it is.
//
// Every error of a Manager is an *OpError reading
// "systemd: <op> <unit>: <cause>"; it unwraps to the cause: a *JobError for
// a job that ended other than "done", a godbus dbus.Error for a call systemd
// or networkd refused, or the context's error.
//
// Notifier needs no bus: it writes datagrams to $NOTIFY_SOCKET and does
// nothing when the process was not started by systemd as Type=notify.
package systemd
