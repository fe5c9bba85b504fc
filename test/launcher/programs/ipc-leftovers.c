/* One execution of test/launcher/job-bound.test.ts: makes one of each System V
 * and POSIX IPC object under a fixed name, exclusively (so an object an
 * earlier execution left behind is seen as EEXIST), fills the shared memory
 * segment with MB mebibytes and exits without removing anything. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

#define KEY 0x5741524e /* "WARN" */

int main(int argc, char **argv) {
  size_t mb = argc > 1 ? (size_t)atoi(argv[1]) : 48;
  int shm = shmget(KEY, mb << 20, IPC_CREAT | IPC_EXCL | 0600);
  int shm_errno = shm < 0 ? errno : 0;
  if (shm >= 0) {
    char *p = shmat(shm, NULL, 0);
    if (p == (void *)-1) { perror("shmat"); return 2; }
    memset(p, 1, mb << 20);
    shmdt(p);
  }
  int msg = msgget(KEY, IPC_CREAT | IPC_EXCL | 0600);
  int msg_errno = msg < 0 ? errno : 0;
  if (msg >= 0) { struct { long type; char text[1024]; } m = { 1, "kept" }; msgsnd(msg, &m, sizeof m.text, 0); }
  int sem = semget(KEY, 4, IPC_CREAT | IPC_EXCL | 0600);
  int sem_errno = sem < 0 ? errno : 0;
  struct mq_attr attr = { .mq_maxmsg = 4, .mq_msgsize = 1024 };
  mqd_t mq = mq_open("/warren-leftover", O_CREAT | O_EXCL | O_RDWR, 0600, &attr);
  int mq_errno = mq < 0 ? errno : 0;
  if (mq >= 0) mq_send(mq, "kept", 4, 0);
  printf("shm %d msg %d sem %d mq %d\n", shm_errno, msg_errno, sem_errno, mq_errno);
  return 0;
}
