import BlytzData
import BlytzServices
import Communication

ServiceMain.main(functions: Communication.functions, migrations: Communication.migrations, setup: ServiceParts.setup)
