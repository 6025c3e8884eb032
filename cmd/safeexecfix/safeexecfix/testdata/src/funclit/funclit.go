package funclit

import "os"

// Each writes from function literals, nested too.
func Each(names []string, run func(string, func())) {
	for _, n := range names {
		run(n, func() {
			_ = os.WriteFile(n, nil, 0o755) // want `os.WriteFile writes an executable`
			func() {
				_ = os.WriteFile(n+".2", nil, 0o700) // want `os.WriteFile writes an executable`
			}()
		})
	}
}
