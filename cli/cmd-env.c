/* cmd-env.c: `sendtrace env`: the environment that traces a program started elsewhere (systemd,
 * containers). */
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <string.h>

#include "cli.h"
#include "run.h"

static void put_plain(const char *k, const char *v, void *arg)
{
	(void)arg;
	printf("%s=%s\n", k, v);
}

static void put_systemd(const char *k, const char *v, void *arg)
{
	(void)arg;
	/* systemd expands % specifiers: a literal % is written %%. */
	printf("Environment=\"%s=", k);
	for (; *v; v++) {
		if (*v == '%')
			putchar('%');
		if (*v == '"' || *v == '\\')
			putchar('\\');
		putchar(*v);
	}
	printf("\"\n");
}

static void put_shell(const char *k, const char *v, void *arg)
{
	(void)arg;
	printf("export %s='", k);
	for (; *v; v++) {
		if (*v == '\'')
			fputs("'\\''", stdout);
		else
			putchar(*v);
	}
	printf("'\n");
}

static int cmd_env_exec(int argc, char **argv)
{
	struct run_opts o;
	char abs_out[2 * PATH_MAX + 8];
	int r = run_parse(argc, argv, &o, &cmd_env_entry);

	if (r)
		return r > 0 ? EXIT_OK : EXIT_TROUBLE;
	if (optind < argc) {
		cli_error("env: takes no program (use run for that)");
		return EXIT_TROUBLE;
	}
	if (o.style == 1) {
		/*
		 * A service's own directory is no place for a trace, and its
		 * workers may run as another user than the process that starts
		 * them: by default, one file per process in a directory systemd
		 * makes, which every user may add files to (sticky, like /tmp:
		 * each file is 0600, its process's user's).
		 */
		if (!o.output_given && !o.per_process)
			o.output = "/var/log/sendtrace/sendtrace.%p.jsonl";
		/* A daemon runs for months: without a cap, a trace left on fills the disk. */
		if (!o.max_size) {
			o.max_size = "100M";
			snprintf(o.rotate, sizeof(o.rotate), "%s", o.rotate[0] ? o.rotate : "3");
		}
		puts("# A drop-in: save as /etc/systemd/system/UNIT.service.d/sendtrace.conf, then\n"
		     "# systemctl daemon-reload && systemctl restart UNIT");
		if (o.dormant)
			puts("# Loaded dormant: nothing is recorded until `sendtrace ctl PID on`\n"
			     "# (or `sendtrace ctl --all on`); `sendtrace ctl PID off` stops it again.");
		printf("# Each trace file is capped at %s%s%s%s.\n", o.max_size,
		       o.rotate[0] && strcmp(o.rotate, "0") ? ", rotated to FILE.1 .. FILE." : "",
		       o.rotate[0] && strcmp(o.rotate, "0") ? o.rotate : "",
		       o.rotate[0] && strcmp(o.rotate, "0") ? " (older ones deleted)" : "");
		puts("[Service]");
		if (!o.output_given && !o.per_process)
			puts("LogsDirectory=sendtrace\nLogsDirectoryMode=1777");
	}
	return run_environ(&o, abs_out, sizeof(abs_out),
			   o.style == 1	  ? put_systemd
			   : o.style == 2 ? put_shell
					  : put_plain,
			   NULL)
		   ? EXIT_TROUBLE
		   : EXIT_OK;
}

const struct cmd_entry cmd_env_entry = {
    .name = "env",
    .usage = "[OPTIONS] [--systemd|--shell]",
    .summary =
	"Print the environment that traces a program started elsewhere, with the\n"
	"same options as run: NAME=VALUE lines (for EnvironmentFile= or\n"
	"docker --env-file), --systemd for a drop-in's [Service] section, --shell\n"
	"for export lines. A relative -o is made absolute here.\n"
	"\n" RUN_OPTIONS_HELP "      --systemd      Environment= lines for a systemd drop-in\n"
	"      --shell        export lines for sh\n"
	"  -h, --help         this help\n"
	"  -V, --version      the version\n",
    .exec = cmd_env_exec,
};
