// The workflow used when a project has no workflow.yaml of its own (`orchestrator init` writes it
// out so the user can edit it). Kept lean on purpose: each item is something an AI coding agent
// can actually do and a reviewer can actually check. Must parse with zero problems (tested).

export const DEFAULT_WORKFLOW_YAML = `# workflow.yaml - the steps an AI coding agent follows for one task.
#
# Phases run in order; a phase is complete when all its required items are completed or skipped.
# Item fields:
#   required: false      optional item, never blocks the phase
#   skippable: false     cannot be skipped at all
#   step_type:           how hard a skip is: gate (needs --force and a 50+ character reason),
#                        documented (50+ character reason), flexible (10+ characters),
#                        required (cannot be skipped)
#   verification.type:   none | file_exists (path) | command (command, expect_exit_code, timeout)
#                        | manual_gate (a human approves with: orchestrator approve-item <id>)
# {{name}} in a verification path or command is replaced by the value of settings.name.

name: "Default Workflow"
version: "1.0"
description: "Plan, execute, review, verify and learn: a lean workflow for an AI coding agent working on one task."

settings:
  # Where plans and notes are written.
  docs_dir: "docs"
  # The command that proves the change works; override it for your project
  # (e.g. "pytest", "go test ./...", "cargo test"). Commands run without a shell, so
  # "a && b" does not work: put several steps in a script and name the script here.
  test_command: "npm test"

phases:
  - id: PLAN
    name: "Plan"
    description: "Understand the task and agree on a plan before changing any code."
    items:
      - id: understand_task
        name: "Understand the task"
        description: "Read the request and the code it touches. List open questions, each with your recommended answer, and the assumptions you are making."
        step_type: documented
        skip_conditions: ["requirements_fully_specified", "trivial_change"]

      - id: initial_plan
        name: "Write the plan"
        description: "Write {{docs_dir}}/plan.md: the goal, the files to change, the steps in order, the risks, and how the result will be tested."
        step_type: required
        verification:
          type: file_exists
          path: "{{docs_dir}}/plan.md"

      - id: user_approval
        name: "Get the plan approved"
        description: "Show the plan to the user and wait. Do not start implementing until they approve it."
        required: true
        skippable: false
        step_type: gate
        verification:
          type: manual_gate
          description: "The user approves with: orchestrator approve-item user_approval"

  - id: EXECUTE
    name: "Execute"
    description: "Make the change the plan describes, tests first."
    notes:
      - "Keep the change to what the plan describes; note anything else you find for the LEARN phase."
    items:
      - id: write_tests
        name: "Write or update tests"
        description: "Write tests for the new behaviour before the code, and check that they fail for the right reason."
        step_type: documented
        skip_conditions: ["no_testable_behaviour", "docs_only_change"]

      - id: implement
        name: "Implement the change"
        description: "Write the code that makes the tests pass, following the plan and the project's existing conventions."
        required: true
        skippable: false
        step_type: required

      - id: update_docs
        name: "Update documentation"
        description: "Update the README, comments or other docs that the change makes out of date."
        required: false
        skip_conditions: ["no_user_visible_change"]

  - id: REVIEW
    name: "Review"
    description: "Read the change as a reviewer would before calling it done."
    items:
      - id: self_review
        name: "Review the full diff"
        description: "Read the whole diff. Look for bugs, missed edge cases, security issues, leftover debug code and changes that the plan did not call for. Fix what you find."
        step_type: documented

      - id: second_opinion
        name: "Get a second opinion"
        description: "Ask another model or a person to review the diff, and address or answer each point they raise."
        required: false
        skip_conditions: ["small_change", "no_reviewer_available"]

  - id: VERIFY
    name: "Verify"
    description: "Prove the change works."
    items:
      - id: run_tests
        name: "Run the test suite"
        description: "Run the project's tests; they must all pass. Set test_command under settings: for your project."
        required: true
        skippable: false
        step_type: gate
        verification:
          type: command
          command: "{{test_command}}"
          expect_exit_code: 0
          # timeout: 600   # seconds; uncomment to stop a hanging test run

      - id: check_acceptance
        name: "Check the acceptance criteria"
        description: "Go through the goal and test plan in {{docs_dir}}/plan.md and confirm each point is met, by running the code where possible."
        step_type: documented

  - id: LEARN
    name: "Learn"
    description: "Leave the project better prepared for the next task."
    items:
      - id: record_learnings
        name: "Record what was learned"
        description: "Note what went wrong or took longer than expected, and why, so the next task avoids it."
        step_type: documented
        skip_conditions: ["nothing_unexpected_happened"]

      - id: propose_improvements
        name: "Propose follow-ups"
        description: "List follow-up work and improvements to this workflow, for the user to accept or reject. Do not act on them now."
        required: false
`;
