package dot

import . "os/exec" // want `os/exec is dot-imported \(safeexec exports more names, which could collide; the package keeps os/exec; import it by name to let the fix move it\)`

func run() error { return Command("true").Run() }
