#!/bin/sh
# test-exports.sh: libsendtrace.so exports exactly the interposed functions (the send family, and the fd, socket option and seccomp calls the library must see), nothing else.
. "$ST_SRCDIR/tests/lib.sh"
command -v nm >/dev/null || skip "nm (binutils) is not installed"
want="abort accept accept4 bind close close_range closefrom connect daemon dup dup2 dup3 execl execle execlp execv execve execvp execvpe _exit _Exit fclose fcloseall fcntl fcntl64 fexecve freopen freopen64 _longjmp longjmp __longjmp_chk pclose pipe pipe2 prctl pthread_create recvmmsg recvmsg send sendfile sendfile64 sendmmsg sendmsg sendto seteuid setresuid setreuid setsockopt setuid shutdown siglongjmp socket socketpair syscall write writev"
# Both in the C locale's order, whatever the caller's (underscores sort apart elsewhere).
want=$(printf '%s\n' $want | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
got=$(nm -D --defined-only "$ST_TEST_LIB" | awk '{print $NF}' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
eq "nm -D lists only the interposed symbols" "$got" "$want"
undef_st=$(nm -D "$ST_TEST_LIB" | awk '{print $NF}' | grep -c '^st_' || true)
eq "no st_ internals in the dynamic symbol table" "$undef_st" "0"
finish
