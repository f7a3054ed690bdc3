package workflow

// Step is one back-office step of an item: who does it and in how many
// working days. Steps sharing a Group run at once (并联).
type Step struct {
	ID         string
	NameZh     string
	NameEn     string
	Department string
	// Hall, when set, is the code of the service hall whose staff work the
	// step instead of Department's (a machine item's manual route).
	Hall  string
	Role  string // clerk, reviewer or head
	Days  int
	Group string
}

// DefaultSteps are the steps of an item that names none: a clerk accepts, a
// reviewer reviews, the department head decides. Issuing the licence is not
// a step anyone works: the platform issues it on approval.
func DefaultSteps(department string, days int) []Step {
	review := max(days-1, 0)
	return []Step{
		{ID: "accept", NameZh: "受理", NameEn: "Acceptance", Department: department, Role: "clerk"},
		{ID: "review", NameZh: "审查", NameEn: "Review", Department: department, Role: "reviewer", Days: review},
		{ID: "decide", NameZh: "决定", NameEn: "Decision", Department: department, Role: "head", Days: days - review},
	}
}

// Stages groups steps in their order into stages: consecutive steps with the
// same non-empty Group form one stage, every other step a stage of its own.
// An application works one stage at a time, all steps of a stage at once.
func Stages(steps []Step) [][]Step {
	var out [][]Step
	for _, s := range steps {
		if n := len(out); n > 0 && s.Group != "" && out[n-1][0].Group == s.Group {
			out[n-1] = append(out[n-1], s)
			continue
		}
		out = append(out, []Step{s})
	}
	return out
}

// TaskStatus is where one step's task stands.
type TaskStatus string

// The statuses of a task.
const (
	TaskWaiting   TaskStatus = "waiting"   // its stage has not begun
	TaskOpen      TaskStatus = "open"      // in the department's inbox, unclaimed
	TaskClaimed   TaskStatus = "claimed"   // a reviewer is working on it
	TaskApproved  TaskStatus = "approved"  // the step passed
	TaskRejected  TaskStatus = "rejected"  // the step failed, with reasons
	TaskCancelled TaskStatus = "cancelled" // no longer needed (another step rejected, withdrawn)
)

// Active reports whether a task is someone's work now.
func (s TaskStatus) Active() bool { return s == TaskOpen || s == TaskClaimed }

// StageOutcome is what the tasks of one stage add up to.
type StageOutcome int

// The outcomes of a stage.
const (
	StagePending  StageOutcome = iota // some task is still open
	StagePassed                       // every task approved: the next stage opens
	StageRejected                     // a task rejected: the application is rejected
)

// Outcome of a stage from its tasks' statuses: any rejection rejects it at
// once (the other steps are cancelled), all approvals pass it.
func Outcome(tasks []TaskStatus) StageOutcome {
	passed := true
	for _, t := range tasks {
		switch t {
		case TaskRejected:
			return StageRejected
		case TaskApproved, TaskCancelled:
		default:
			passed = false
		}
	}
	if passed && len(tasks) > 0 {
		return StagePassed
	}
	return StagePending
}
