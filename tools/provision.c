/*
 * provision.c - `tandemctl provision FILE.json [--dry-run]`
 *
 * Reads the document, checks it (model/check.c) and hands it to the one
 * configuration writer (model/apply.c); prints what changed.  Nothing is
 * written when anything is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tools/ctl.h"

static void print_errors(const char *file, const struct md_doc *doc)
{
	for (size_t i = 0; i < doc->nerrs; i++)
		fprintf(stderr, "%s: %s\n", file, doc->errs[i]);
	fprintf(stderr, "%s: %zu problem%s, nothing written\n", file,
		doc->nerrs, doc->nerrs == 1 ? "" : "s");
}

/* tandemctl provision FILE.json [--dry-run] */
int tc_cmd_provision(const struct tc_opts *o, const char *file)
{
	struct md_doc doc = {0};
	struct md_apply a = {0};
	json_error_t jerr;
	json_t *root;
	PGconn *conn;
	char err[256], actor[128];
	int version, ret = 1;
	bool invalid;

	if (!strcmp(file, "-")) /* the document on stdin */
		root = json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr);
	else
		root = json_load_file(file, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line > 0)
			fprintf(stderr, "%s:%d:%d: %s\n", file, jerr.line,
				jerr.column, jerr.text);
		else
			fprintf(stderr, "%s: %s\n", file, jerr.text);
		fprintf(stderr, "%s: not valid JSON, nothing written\n", file);
		return 1;
	}

	invalid = md_doc_check(&doc, root) != 0;

	conn = invalid ? tc_db_open(o) : tc_db_connect(o);
	if (invalid && PQstatus(conn) != CONNECTION_OK) {
		/* the file is wrong anyway: report it without the database */
		print_errors(file, &doc);
		goto out;
	}
	if (!conn)
		goto out;
	if (tc_db_schema_version(conn, &version, err, sizeof(err))) {
		fprintf(stderr, "tandemctl: %s\n", err);
		goto out;
	}
	if (version < 1) {
		if (invalid)
			print_errors(file, &doc);
		fprintf(stderr,
			"tandemctl: the database has no schema yet: run "
			"`tandemctl db migrate` first\n");
		goto out;
	}
	snprintf(actor, sizeof(actor), "tandemctl:%s",
		 getenv("USER") ? getenv("USER") : "?");
	a.conn = conn;
	a.source = "tandemctl";
	a.audit_actor = actor;
	a.audit_action = "provision";
	a.audit_object = file;
	a.dry_run = o->dry_run;
	a.quiet = o->quiet;
	a.out = stdout;
	switch (md_apply(&a, &doc)) {
	case MD_OK:
		break;
	case MD_INVALID:
		print_errors(file, &doc);
		goto out;
	case MD_DBERR:
		fprintf(stderr,
			"tandemctl: database: %s\n%s: nothing written\n", a.err,
			file);
		goto out;
	default:
		fprintf(stderr, "tandemctl: %s\n%s: nothing written\n", a.err,
			file);
		goto out;
	}

	if (a.created || a.updated || a.deleted)
		printf("%s%d created, %d updated, %d deleted, %d unchanged\n",
		       o->dry_run ? "dry run, nothing written: " : "",
		       a.created, a.updated, a.deleted, a.unchanged);
	else
		printf("%snothing changed (%d unchanged)\n",
		       o->dry_run ? "dry run: " : "", a.unchanged);
	ret = 0;

out:
	if (conn)
		PQfinish(conn);
	md_doc_free(&doc);
	json_decref(root);
	return ret;
}
