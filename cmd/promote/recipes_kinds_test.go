package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The structure each CI system expects of its file, as far as a recipe
// uses it; each returns the shell scripts the file runs.

// githubScripts checks a GitHub Actions workflow: triggers, jobs, and steps
// that each use an action or run a script (actionlint checks the rest).
func githubScripts(doc map[string]any) ([]string, error) {
	if doc["on"] == nil {
		return nil, fmt.Errorf("no triggers (on:)")
	}
	jobs, err := mapping(doc, "jobs")
	if err != nil {
		return nil, err
	}
	var scripts []string
	for _, name := range sortedKeys(jobs) {
		job, ok := jobs[name].(map[string]any)
		if !ok || job["runs-on"] == nil {
			return nil, fmt.Errorf("job %s: no runs-on", name)
		}
		steps, _ := job["steps"].([]any)
		if len(steps) == 0 {
			return nil, fmt.Errorf("job %s: no steps", name)
		}
		for i, s := range steps {
			step, _ := s.(map[string]any)
			run, isRun := step["run"].(string)
			_, isUses := step["uses"].(string)
			if isRun == isUses {
				return nil, fmt.Errorf("job %s, step %d: neither uses nor run, or both", name, i+1)
			}
			if isRun {
				scripts = append(scripts, run)
			}
		}
	}
	return scripts, nil
}

// gitlabKeywords are the top-level keys of .gitlab-ci.yml that are not jobs.
var gitlabKeywords = []string{"default", "include", "stages", "variables", "workflow", "image", "services",
	"cache", "before_script", "after_script", "spec"}

// gitlabScripts checks a GitLab CI file: declared stages, and jobs (after
// their extends) that each have a script and a declared stage, and need
// only jobs that exist.
func gitlabScripts(doc map[string]any) ([]string, error) {
	stages, err := strings_(doc["stages"])
	if err != nil || len(stages) == 0 {
		return nil, fmt.Errorf("no stages list")
	}
	var scripts []string
	for _, name := range sortedKeys(doc) {
		if slices.Contains(gitlabKeywords, name) {
			continue
		}
		job, ok := doc[name].(map[string]any)
		if !ok {
			return nil, fmt.Errorf("job %s: not a mapping", name)
		}
		if parent, ok := job["extends"].(string); ok {
			tmpl, ok := doc[parent].(map[string]any)
			if !ok {
				return nil, fmt.Errorf("job %s: extends %q, which is not defined", name, parent)
			}
			job = extend(tmpl, job)
		}
		for _, key := range []string{"before_script", "script", "after_script"} {
			lines, err := strings_(job[key])
			if err != nil {
				return nil, fmt.Errorf("job %s: %s: %w", name, key, err)
			}
			scripts = append(scripts, strings.Join(lines, "\n"))
		}
		if strings.HasPrefix(name, ".") { // a template, not a job
			continue
		}
		if s, _ := strings_(job["script"]); len(s) == 0 {
			return nil, fmt.Errorf("job %s: no script", name)
		}
		if st, _ := job["stage"].(string); !slices.Contains(stages, st) {
			return nil, fmt.Errorf("job %s: stage %q is not in stages %v", name, st, stages)
		}
		needs, err := strings_(job["needs"])
		if err != nil {
			return nil, fmt.Errorf("job %s: needs: %w", name, err)
		}
		for _, n := range needs {
			if _, ok := doc[n].(map[string]any); !ok || strings.HasPrefix(n, ".") {
				return nil, fmt.Errorf("job %s: needs %q, which is not a job", name, n)
			}
		}
	}
	return scripts, nil
}

// extend is GitLab's extends: the job's keys over the template's.
func extend(tmpl, job map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range tmpl {
		out[k] = v
	}
	for k, v := range job {
		out[k] = v
	}
	return out
}

// buildspecPhases are the phases of a CodeBuild buildspec, in order.
var buildspecPhases = []string{"install", "pre_build", "build", "post_build"}

// buildspecScripts checks a CodeBuild buildspec: version 0.2, and phases
// that each list commands.
func buildspecScripts(doc map[string]any) ([]string, error) {
	if v := fmt.Sprint(doc["version"]); v != "0.2" {
		return nil, fmt.Errorf("version %s: expected 0.2", v)
	}
	phases, err := mapping(doc, "phases")
	if err != nil {
		return nil, err
	}
	var scripts []string
	for _, name := range buildspecPhases {
		p, ok := phases[name]
		if !ok {
			continue
		}
		phase, _ := p.(map[string]any)
		cmds, err := strings_(phase["commands"])
		if err != nil || len(cmds) == 0 {
			return nil, fmt.Errorf("phase %s: no commands", name)
		}
		scripts = append(scripts, strings.Join(cmds, "\n"))
	}
	for name := range phases {
		if !slices.Contains(buildspecPhases, name) {
			return nil, fmt.Errorf("phase %s: expected one of %v", name, buildspecPhases)
		}
	}
	return scripts, nil
}

func mapping(doc map[string]any, key string) (map[string]any, error) {
	m, ok := doc[key].(map[string]any)
	if !ok || len(m) == 0 {
		return nil, fmt.Errorf("no %s", key)
	}
	return m, nil
}

// strings_ reads a list of strings (or one string, or nothing).
func strings_(v any) ([]string, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{v}, nil
	case []any:
		out := make([]string, 0, len(v))
		for _, e := range v {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("%v is not a string", e)
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("expected a list of strings, got %T", v)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
