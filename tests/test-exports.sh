#!/bin/sh
# test-exports.sh: libsendtrace.so exports exactly the interposed functions (the send family, and the fd, socket option and seccomp calls the library must see), nothing else.
. "$ST_SRCDIR/tests/lib.sh"
command -v nm >/dev/null || skip "nm (binutils) is not installed"
want="_Exit __longjmp_chk _exit _longjmp abort accept accept4 bind clock_nanosleep close close_range closefrom connect daemon dup dup2 dup3 epoll_wait execl execle execlp execv execve execvp execvpe fclose fcloseall fcntl fcntl64 fexecve freopen freopen64 longjmp nanosleep pclose pipe pipe2 poll prctl pthread_create pthread_sigmask read readv recv recvfrom recvmmsg recvmsg select send sendfile sendfile64 sendmmsg sendmsg sendto seteuid setresuid setreuid setsockopt setuid shutdown sigaction siglongjmp signal sigprocmask socket socketpair syscall write writev"
# Both in the C locale's order, whatever the caller's (underscores sort apart elsewhere).
want=$(printf '%s\n' $want | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
got=$(nm -D --defined-only "$ST_TEST_LIB" | awk '{print $NF}' | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//')
eq "nm -D lists only the interposed symbols" "$got" "$want"
undef_st=$(nm -D "$ST_TEST_LIB" | awk '{print $NF}' | grep -c '^st_' || true)
eq "no st_ internals in the dynamic symbol table" "$undef_st" "0"
finish
