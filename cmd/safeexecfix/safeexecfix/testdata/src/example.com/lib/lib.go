package lib

func Name() string { return "true" }
