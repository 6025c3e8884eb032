package creators

import (
	"io"
	"os"
)

func install(dst string, src io.Reader) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755) // want `os.OpenFile creates an executable \(a program that runs it while another goroutine forks may fail with "text file busy" while it is open; create it with f, err := safeexec.CreateExecutable\(name, 0755\), write to f and Close it before running it\)`
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, src); err != nil {
		return err
	}
	return f.Close()
}

func chmodLater(dst string, data []byte) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	f.Write(data)
	if err := f.Chmod(0o755); err != nil { // want `File.Chmod makes a file created in this function executable`
		return err
	}
	return f.Close()
}

func chmodName(dst string) error {
	if err := os.WriteFile(dst, nil, 0o644); err != nil {
		return err
	}
	return os.Chmod(dst, 0o755) // want `os.Chmod makes a file created in this function executable`
}

func dir(d string) error {
	if err := os.Mkdir(d, 0o700); err != nil {
		return err
	}
	os.OpenFile(d, os.O_RDONLY, 0o755) // opens, never creates: not reported
	return os.Chmod(d, 0o755)          // a directory: not reported
}
