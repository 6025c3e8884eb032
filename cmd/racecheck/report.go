package main

import "runtime"

// The report: everything a run found, as -json prints it.

// report is everything racecheck found, as -json prints it; the command's
// doc describes each field.
type report struct {
	Complete   bool      `json:"complete"`
	Signal     string    `json:"signal,omitempty"` // the signal that stopped the run
	ExitCode   int       `json:"exitCode"`
	GOOS       string    `json:"goos"`
	GOARCH     string    `json:"goarch"`
	GoVersion  string    `json:"goVersion"`
	CPUs       int       `json:"cpus"`
	Dir        string    `json:"dir"`
	FSType     string    `json:"fsType"`
	FSMagic    uint64    `json:"fsMagic,omitempty"`
	ClosePath  string    `json:"closePath"`
	Closes     closes    `json:"closes"`
	ExecError  string    `json:"execError,omitempty"`
	Config     runConfig `json:"config"`
	ElapsedS   float64   `json:"elapsedS"`
	LoadBefore []float64 `json:"loadBefore,omitempty"`
	LoadAfter  []float64 `json:"loadAfter,omitempty"`
	Notes      []string  `json:"notes,omitempty"` // flags racecheck changed, and why

	Verdict  *verdict       `json:"verdict,omitempty"`
	S1       []*stormResult `json:"s1,omitempty"`
	S2       []*stormResult `json:"s2,omitempty"`
	S5       []*stormResult `json:"s5,omitempty"`
	StormsS  float64        `json:"stormsS"` // s1, s2 and s5 together, which -duration bounds
	S3       []*slowResult  `json:"s3,omitempty"`
	S4       []*fastResult  `json:"s4,omitempty"`
	Probes   []*probeResult `json:"probes,omitempty"`
	Goals    []goal         `json:"goals,omitempty"`
	Problems []string       `json:"problems"`
}

// runConfig is the command line, as numbers.
type runConfig struct {
	DurationS  float64  `json:"durationS"`
	PerfS      float64  `json:"perfS"`
	Cycles     int      `json:"cycles"`
	Rounds     int      `json:"rounds"`
	Spawners   int      `json:"spawners"`
	Scenarios  []string `json:"scenarios"`
	Strategies []string `json:"strategies"`
}

func newReport(cfg *config, dir string) *report {
	rep := &report{
		GOOS:       runtime.GOOS,
		GOARCH:     runtime.GOARCH,
		GoVersion:  runtime.Version(),
		CPUs:       runtime.NumCPU(),
		Dir:        dir,
		LoadBefore: loadAverage(),
		Problems:   []string{},
		Notes:      cfg.notes,
		Config: runConfig{
			DurationS: cfg.duration.Seconds(),
			PerfS:     cfg.perf.Seconds(),
			Cycles:    cfg.cycles,
			Rounds:    cfg.rounds,
			Spawners:  cfg.spawners,
			Scenarios: cfg.scenarios,
		},
	}
	for _, st := range cfg.strategies {
		rep.Config.Strategies = append(rep.Config.Strategies, st.name)
	}
	rep.FSType, rep.FSMagic = fsType(dir)
	return rep
}

// verdict answers the two questions racecheck is for, from s1 and s2.
type verdict struct {
	Decided        bool               `json:"decided"`
	Reproduced     bool               `json:"reproduced"`
	Removed        bool               `json:"removed"`
	SafeexecFailed bool               `json:"safeexecFailed"`
	Alpha          float64            `json:"alpha"`
	AlphaPerLook   float64            `json:"alphaPerLook"`
	LookRounds     []int              `json:"lookRounds"`
	PValue         float64            `json:"pValue"`
	Significant    bool               `json:"significant"`
	Looks          int                `json:"looks"`
	RoundsRun      int                `json:"roundsRun"`
	Interrupted    bool               `json:"interrupted"` // by a signal, during s1 or s2
	Scenarios      []*scenarioVerdict `json:"scenarios"`

	// What to run next when the verdict is not decided; zero when it is.
	SuggestDurationS float64 `json:"suggestDurationS,omitempty"`
	SuggestCycles    int64   `json:"suggestCycles,omitempty"`
	SuggestSpawners  int     `json:"suggestSpawners,omitempty"`
}

// scenarioVerdict compares safeexec with plain os/exec in s1 or s2.
type scenarioVerdict struct {
	Scenario             string  `json:"scenario"`
	ExecCycles           int64   `json:"execCycles"`
	ExecETXTBSY          int64   `json:"execEtxtbsy"`
	ExecRatePct          float64 `json:"execRatePct"`
	ExecRatePctLow       float64 `json:"execRatePctLow"`
	ExecRatePctHigh      float64 `json:"execRatePctHigh"`
	SafeexecCycles       int64   `json:"safeexecCycles"`
	SafeexecFailures     int64   `json:"safeexecFailures"`
	SafeexecSpawnFailure int64   `json:"safeexecSpawnFailures"`
	SafeexecRatePct      float64 `json:"safeexecRatePct"`
	SafeexecRatePctHigh  float64 `json:"safeexecRatePctHigh"`
	PValue               float64 `json:"pValue"` // this scenario alone
}

// goal is one of the project's performance targets for safeexec (issue
// #4) and whether this run met it. They are development goals, shown
// only with -goals, and never decide the exit status.
type goal struct {
	Goal   string  `json:"goal"`
	Target float64 `json:"target"`
	Got    float64 `json:"got"`
	Unit   string  `json:"unit"`
	Met    bool    `json:"met"`
}
