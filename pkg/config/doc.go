// Package config loads, validates and edits the launch agent's YAML
// configuration file and its environment overrides.
//
// [Load] reads the file, applies the defaults and then the environment, and
// validates the result before any network traffic. It reports every problem it
// finds at once, each with the file, line, column and dotted key, or with the
// environment variable that set the value. [Edit] and [Get] change and read
// single keys in place for the Debian maintainer scripts, keeping comments,
// order and layout.
//
// # Keys and environment variables
//
// Every key can be overridden by two environment variables. The LAUNCH_AGENT_*
// name is the upper-case dotted key with dots turned into underscores, except
// for the two WORK_DIR names that the launch agent reference chose. The
// CIRCLECI_RUNNER_* name of machine runner 3 is the same suffix without its
// RUNNER_ part. When both are set, the LAUNCH_AGENT_* value wins and Load
// returns a warning.
//
//	key                                       LAUNCH_AGENT_*                                         CIRCLECI_RUNNER_*                                  default
//	api.auth_token                            LAUNCH_AGENT_API_AUTH_TOKEN                            CIRCLECI_RUNNER_API_AUTH_TOKEN                     required
//	api.url                                   LAUNCH_AGENT_API_URL                                   CIRCLECI_RUNNER_API_URL                            https://runner.circleci.com
//	api.request_timeout                       LAUNCH_AGENT_API_REQUEST_TIMEOUT                       CIRCLECI_RUNNER_API_REQUEST_TIMEOUT                30s
//	runner.name                               LAUNCH_AGENT_RUNNER_NAME                               CIRCLECI_RUNNER_NAME                               required
//	runner.resource_class                     LAUNCH_AGENT_RUNNER_RESOURCE_CLASS                     CIRCLECI_RUNNER_RESOURCE_CLASS                     unset
//	runner.command_prefix                     LAUNCH_AGENT_RUNNER_COMMAND_PREFIX                     CIRCLECI_RUNNER_COMMAND_PREFIX                     unset
//	runner.working_directory                  LAUNCH_AGENT_RUNNER_WORK_DIR                           CIRCLECI_RUNNER_WORK_DIR                           /opt/circleci/workdir/%s
//	runner.cleanup_working_directory          LAUNCH_AGENT_RUNNER_CLEANUP_WORK_DIR                   CIRCLECI_RUNNER_CLEANUP_WORK_DIR                   false
//	runner.mode                               LAUNCH_AGENT_RUNNER_MODE                               CIRCLECI_RUNNER_MODE                               continuous
//	runner.max_run_time                       LAUNCH_AGENT_RUNNER_MAX_RUN_TIME                       CIRCLECI_RUNNER_MAX_RUN_TIME                       5h
//	runner.idle_timeout                       LAUNCH_AGENT_RUNNER_IDLE_TIMEOUT                       CIRCLECI_RUNNER_IDLE_TIMEOUT                       0s (never)
//	runner.disable_auto_update                LAUNCH_AGENT_RUNNER_DISABLE_AUTO_UPDATE                CIRCLECI_RUNNER_DISABLE_AUTO_UPDATE                false
//	runner.ssh.advertise_addr                 LAUNCH_AGENT_RUNNER_SSH_ADVERTISE_ADDR                 CIRCLECI_RUNNER_SSH_ADVERTISE_ADDR                 unset
//	runner.task_agent_directory               LAUNCH_AGENT_RUNNER_TASK_AGENT_DIRECTORY               CIRCLECI_RUNNER_TASK_AGENT_DIRECTORY               unset (the caller decides)
//	runner.cache_task_agent                   LAUNCH_AGENT_RUNNER_CACHE_TASK_AGENT                   CIRCLECI_RUNNER_CACHE_TASK_AGENT                   true
//	runner.use_home_ssh_dir_for_checkout_keys LAUNCH_AGENT_RUNNER_USE_HOME_SSH_DIR_FOR_CHECKOUT_KEYS CIRCLECI_RUNNER_USE_HOME_SSH_DIR_FOR_CHECKOUT_KEYS false
//	runner.task_agent_base_url                LAUNCH_AGENT_RUNNER_TASK_AGENT_BASE_URL                CIRCLECI_RUNNER_TASK_AGENT_BASE_URL                https://circleci-binary-releases.s3.amazonaws.com/circleci-agent
//	runner.claim_interval                     LAUNCH_AGENT_RUNNER_CLAIM_INTERVAL                     CIRCLECI_RUNNER_CLAIM_INTERVAL                     5s
//	runner.cancel_grace_period                LAUNCH_AGENT_RUNNER_CANCEL_GRACE_PERIOD                CIRCLECI_RUNNER_CANCEL_GRACE_PERIOD                20s
//	logging.file                              LAUNCH_AGENT_LOGGING_FILE                              CIRCLECI_RUNNER_LOGGING_FILE                       unset (standard error)
//	logging.level                             LAUNCH_AGENT_LOGGING_LEVEL                             CIRCLECI_RUNNER_LOGGING_LEVEL                      info
//	logging.format                            LAUNCH_AGENT_LOGGING_FORMAT                            CIRCLECI_RUNNER_LOGGING_FORMAT                     json
//
// An environment value is read with the same rules as the file, with these
// differences. An empty variable counts as unset. A list such as
// runner.command_prefix is parsed as a YAML flow list when it starts with "["
// (LAUNCH_AGENT_RUNNER_COMMAND_PREFIX='["/opt/circleci/launch-task"]'), and
// is otherwise split on whitespace (LAUNCH_AGENT_RUNNER_COMMAND_PREFIX=/usr/bin/sudo -u circleci).
// A LAUNCH_AGENT_* or CIRCLECI_RUNNER_* variable that names no key is a
// warning that suggests the closest name.
//
// # Values
//
// Booleans follow YAML 1.2: true, True and TRUE, false, False and FALSE.
// The YAML 1.1 words yes, no, on, off, y and n are rejected, because other
// YAML readers take them as booleans and this one would not. A value given
// for a string key is taken as written, so a name such as 007 or 1e100 stays
// that text. A key with no value, or with null or ~, is unset. Durations use
// Go's syntax (300s, 5m, 1h30m) and must carry a unit. A leading ~/ in
// runner.working_directory, runner.task_agent_directory, logging.file and the
// program of runner.command_prefix is the home directory of the agent's user.
package config
