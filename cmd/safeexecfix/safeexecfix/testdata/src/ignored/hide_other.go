//go:build !windows

package ignored

func hideWindow(cmd any) {}
