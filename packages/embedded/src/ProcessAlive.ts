/**
 * Whether a process runs, for the owners of pid files and watchers of parents (a postmaster's
 * `postmaster.pid`, syncd's data folder lock and launcher watch).
 */

/** Whether a process with this pid runs, owned by anyone (signal 0: `EPERM` means it runs as another user). */
export const processAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM"
  }
}
