/*
 * sysperf.c - this host's CPU, memory, disks and interfaces from /proc
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "common/sysperf.h"

/* per-core CPU use since the previous call (0 on the first) */
static json_t *cpus(struct sw_sysperf *p)
{
	json_t *arr = json_array();
	char line[512];
	FILE *f = fopen("/proc/stat", "r");
	unsigned n = 0;

	while (f && fgets(line, sizeof(line), f) && n < SW_SYSPERF_CPUS) {
		unsigned long long v[8] = {0}, busy, total = 0;
		char *s, *end;
		int k = 0;

		if (strncmp(line, "cpu", 3) || line[3] < '0' || line[3] > '9')
			continue;
		s = strchr(line, ' ');
		for (; s && k < 8; k++, s = end) {
			v[k] = strtoull(s, &end, 10);
			if (end == s)
				break;
		}
		for (int i = 0; i < 8; i++)
			total += v[i];
		busy = total - v[3] - v[4];
		if (n < p->ncpu && total > p->total[n] && busy >= p->busy[n])
			json_array_append_new(
			    arr, json_integer(
				     (json_int_t)(100 * (busy - p->busy[n]) /
						  (total - p->total[n]))));
		else
			json_array_append_new(arr, json_integer(0));
		p->busy[n] = busy;
		p->total[n] = total;
		n++;
	}
	if (f)
		fclose(f);
	p->ncpu = n;
	return arr;
}

static json_t *memory(void)
{
	unsigned long long total = 0, free_ = 0, buffers = 0, cached = 0,
			   avail = 0;
	char line[256];
	FILE *f = fopen("/proc/meminfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "MemTotal:", 9))
			total = strtoull(line + 9, NULL, 10);
		else if (!strncmp(line, "MemFree:", 8))
			free_ = strtoull(line + 8, NULL, 10);
		else if (!strncmp(line, "Buffers:", 8))
			buffers = strtoull(line + 8, NULL, 10);
		else if (!strncmp(line, "Cached:", 7))
			cached = strtoull(line + 7, NULL, 10);
		else if (!strncmp(line, "MemAvailable:", 13))
			avail = strtoull(line + 13, NULL, 10);
	}
	if (f)
		fclose(f);
	return json_pack(
	    "{s:I, s:I, s:I, s:I}", "total", (json_int_t)total, "used",
	    (json_int_t)(total > free_ + buffers + cached
			     ? total - free_ - buffers - cached
			     : 0),
	    "cached", (json_int_t)cached, "available", (json_int_t)avail);
}

static json_t *disks(void)
{
	json_t *arr = json_array();
	char line[1024], dev[256], mnt[512], type[64];
	FILE *f = fopen("/proc/mounts", "r");

	while (f && fgets(line, sizeof(line), f)) {
		struct statvfs v;
		unsigned long long k;

		if (sscanf(line, "%255s %511s %63s", dev, mnt, type) != 3 ||
		    (strcmp(mnt, "/") && strcmp(type, "ext4") &&
		     strcmp(type, "xfs") && strcmp(type, "btrfs")))
			continue;
		if (statvfs(mnt, &v) || !v.f_blocks)
			continue;
		k = v.f_frsize / 1024;
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:I, s:I, s:I}", "mount", mnt, "total_kb",
			      (json_int_t)(v.f_blocks * k), "used_kb",
			      (json_int_t)((v.f_blocks - v.f_bfree) * k),
			      "available_kb", (json_int_t)(v.f_bavail * k)));
	}
	if (f)
		fclose(f);
	return arr;
}

static json_t *net(void)
{
	json_t *arr = json_array();
	char line[512];
	FILE *f = fopen("/proc/net/dev", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':'), *name = line, *s, *end;
		unsigned long long v[9] = {0};
		int k = 0;

		if (!colon)
			continue;
		*colon = '\0';
		while (*name == ' ')
			name++;
		for (s = colon + 1; k < 9; k++, s = end) {
			v[k] = strtoull(s, &end, 10);
			if (end == s)
				break;
		}
		if (k < 9)
			continue;
		json_array_append_new(
		    arr,
		    json_pack("{s:s, s:I, s:I}", "iface", name, "rx_bytes",
			      (json_int_t)v[0], "tx_bytes", (json_int_t)v[8]));
	}
	if (f)
		fclose(f);
	return arr;
}

/* The host's performance now (a new reference; NULL on no memory). */
json_t *sw_sysperf_json(struct sw_sysperf *p)
{
	char host[256] = "";
	double load[3] = {0, 0, 0};

	gethostname(host, sizeof(host) - 1);
	if (getloadavg(load, 3) < 0)
		load[0] = load[1] = load[2] = 0;
	return json_pack("{s:s, s:o, s:[f,f,f], s:o, s:o, s:o}", "hostname",
			 host, "cpu_pct", cpus(p), "load", load[0], load[1],
			 load[2], "memory_kb", memory(), "disks", disks(),
			 "net", net());
}
