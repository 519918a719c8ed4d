/*
 * Start-up hooks of the other layers, called by main() in this order (boot/hooks.c has
 * empty weak defaults until a layer defines its own).
 */
#ifndef QEDBOX_HOOKS_H
#define QEDBOX_HOOKS_H

void drivers_init(void);
void net_init(void);

#endif
