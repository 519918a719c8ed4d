/*
 * The appliance's web server (http=PORT, default 80): the status page at /, /metrics for
 * Prometheus, and the JSON API under /api/v1/ with its two actions (README, "Status
 * page, metrics and API"). Served by net/http_server.h; the pages are rendered from a
 * snapshot (app/status.h). Also samples the throughput history every
 * STATUS_RATE_PERIOD_S seconds from a loop poller.
 *
 *     http_service_start(cfg);    // after lwip_port_init(); cfg outlives the service
 */
#ifndef QEDBOX_HTTP_SERVICE_H
#define QEDBOX_HTTP_SERVICE_H

#include "config.h"

/* 0, or a negative errno from http_server_start(). Call once. */
int http_service_start(const struct qedbox_config *cfg);

#endif
