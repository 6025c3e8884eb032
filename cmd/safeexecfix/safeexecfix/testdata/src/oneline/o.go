package oneline

import ("fmt"; "os/exec") // want `the fix cannot move this import of os/exec: the import of os/exec shares its line with another import`

// F runs true.
func F() { fmt.Println(exec.Command("true").Run()) }
