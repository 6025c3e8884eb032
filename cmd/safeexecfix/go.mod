module github.com/forkgate/forkgate/cmd/safeexecfix

go 1.26.0

require (
	github.com/forkgate/forkgate v0.0.0
	go.uber.org/goleak v1.3.0
	golang.org/x/tools v0.53.0
)

require (
	golang.org/x/mod v0.43.0 // indirect
	golang.org/x/sync v0.25.0 // indirect
	golang.org/x/sys v0.50.0 // indirect
)

replace github.com/forkgate/forkgate => ../..
