import BlytzData
import Communication

ServiceMain.main(functions: Communication.functions, migrations: Communication.migrations, setup: Communication.setup)
